package io.moestream.engine.synth;

import io.moestream.engine.checkpoint.DType;
import io.moestream.engine.config.DeepSeekV4Config;
import io.moestream.engine.config.DeepSeekV4Config.AttentionType;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.v4.V4TensorNames;
import io.moestream.engine.synth.SyntheticWeight.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of a DeepSeek-V4 checkpoint in DeepSeek's own layout (the one its release and llama.cpp's converter
 * use), with the dtypes a bf16 save keeps: projections BF16, norms, hyper-connections, sinks and position biases F32
 * (transformers' {@code _keep_in_fp32_modules_strict}), the hash routing table I32 as DeepSeek ships it. The
 * compressors' and indexer's projections are marked apart: the released FP8 checkpoint keeps them in BF16.
 */
final class DeepSeekV4Layout {
    private final ModelConfig config;
    private final DeepSeekV4Config v4;
    private final V4TensorNames names = V4TensorNames.of(V4TensorNames.Layout.OFFICIAL);
    private final List<SyntheticWeight> weights = new ArrayList<>();

    private DeepSeekV4Layout(ModelConfig config) {
        this.config = config;
        this.v4 = config.v4();
    }

    static List<SyntheticWeight> of(ModelConfig config) {
        DeepSeekV4Layout layout = new DeepSeekV4Layout(config);
        layout.addAll();
        return List.copyOf(layout.weights);
    }

    private void addAll() {
        int hidden = config.hiddenSize();
        int streams = v4.hcMult();
        add(names.embedding(), Kind.EMBEDDING, DType.BF16, config.vocabSize(), hidden);
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (String site : new String[] {"hc_attn_", "hc_ffn_"}) {
                add(names.layer(layer, site + "fn"), Kind.MIXING, DType.F32, (2 + streams) * streams, streams * hidden);
                add(names.layer(layer, site + "base"), Kind.MIXING_BASE, DType.F32, (2 + streams) * streams);
                add(names.layer(layer, site + "scale"), Kind.MIXING_SCALE, DType.F32, 3);
            }
            add(names.layer(layer, "attn_norm.weight"), Kind.NORM, DType.F32, hidden);
            add(names.layer(layer, "ffn_norm.weight"), Kind.NORM, DType.F32, hidden);
            addAttention(layer);
            addMoe(layer);
        }
        add(names.finalNorm(), Kind.NORM, DType.F32, hidden);
        if (!config.tieWordEmbeddings()) {
            add(names.head(), Kind.HEAD, DType.BF16, config.vocabSize(), hidden);
        }
        add(names.hyperHead("fn"), Kind.MIXING, DType.F32, streams, streams * hidden);
        add(names.hyperHead("base"), Kind.MIXING_BASE, DType.F32, streams);
        add(names.hyperHead("scale"), Kind.MIXING_SCALE, DType.F32, 1);
    }

    private void addAttention(int layer) {
        int hidden = config.hiddenSize();
        int heads = config.numHeads();
        int d = v4.headDim();
        int qRank = config.qLoraRank();
        String at = "attn.";
        add(names.layer(layer, at + "attn_sink"), Kind.SINK, DType.F32, heads);
        add(names.layer(layer, at + "wq_a.weight"), Kind.PROJECTION, DType.BF16, qRank, hidden);
        add(names.layer(layer, at + "q_norm.weight"), Kind.NORM, DType.F32, qRank);
        add(names.layer(layer, at + "wq_b.weight"), Kind.PROJECTION, DType.BF16, heads * d, qRank);
        add(names.layer(layer, at + "wkv.weight"), Kind.PROJECTION, DType.BF16, d, hidden);
        add(names.layer(layer, at + "kv_norm.weight"), Kind.NORM, DType.F32, d);
        int groups = v4.outputGroups();
        add(
                names.layer(layer, at + "wo_a.weight"),
                Kind.PROJECTION,
                DType.BF16,
                groups * v4.outputRank(),
                heads * d / groups);
        add(names.layer(layer, at + "wo_b.weight"), Kind.PROJECTION, DType.BF16, hidden, groups * v4.outputRank());
        AttentionType type = v4.layerType(layer);
        if (type == AttentionType.SLIDING) {
            return;
        }
        boolean csa = type == AttentionType.COMPRESSED_SPARSE;
        addCompressor(names.layer(layer, at + "compressor."), d, v4.compressRate(layer), csa);
        if (csa) {
            int di = v4.indexHeadDim();
            String ix = names.layer(layer, at + "indexer.");
            addCompressor(ix + "compressor.", di, v4.csaRate(), true);
            add(ix + "wq_b.weight", Kind.COMPRESSOR, DType.BF16, v4.indexHeads() * di, qRank);
            add(ix + "weights_proj.weight", Kind.COMPRESSOR, DType.BF16, v4.indexHeads(), hidden);
        }
    }

    private void addCompressor(String prefix, int d, int rate, boolean overlap) {
        int width = overlap ? 2 * d : d;
        int hidden = config.hiddenSize();
        add(prefix + "wkv.weight", Kind.COMPRESSOR, DType.BF16, width, hidden);
        add(prefix + "wgate.weight", Kind.COMPRESSOR, DType.BF16, width, hidden);
        add(prefix + "ape", Kind.POSITION_BIAS, DType.F32, rate, width);
        add(prefix + "norm.weight", Kind.NORM, DType.F32, d);
    }

    private void addMoe(int layer) {
        int hidden = config.hiddenSize();
        int experts = config.numRoutedExperts();
        int inter = config.moeIntermediateSize();
        for (int expert = 0; expert < experts; expert++) {
            String[] projections = names.expertProjections(layer, expert);
            add(projections[0], Kind.EXPERT, DType.BF16, inter, hidden);
            add(projections[1], Kind.EXPERT, DType.BF16, inter, hidden);
            add(projections[2], Kind.EXPERT, DType.BF16, hidden, inter);
        }
        add(names.layer(layer, "ffn.gate.weight"), Kind.ROUTER, DType.BF16, experts, hidden);
        if (v4.isHashLayer(layer)) {
            weights.add(new SyntheticWeight(
                    names.layer(layer, "ffn.gate.tid2eid"),
                    new long[] {config.vocabSize(), config.router().topK()},
                    Kind.EXPERT_TABLE,
                    DType.I32,
                    experts));
        } else {
            add(names.layer(layer, "ffn.gate.bias"), Kind.ROUTER_BIAS, DType.F32, experts);
        }
        String shared = names.layer(layer, "ffn.shared_experts.");
        add(shared + "w1.weight", Kind.PROJECTION, DType.BF16, inter, hidden);
        add(shared + "w3.weight", Kind.PROJECTION, DType.BF16, inter, hidden);
        add(shared + "w2.weight", Kind.PROJECTION, DType.BF16, hidden, inter);
    }

    private void add(String name, Kind kind, DType dtype, long... shape) {
        weights.add(new SyntheticWeight(name, shape, kind, dtype));
    }
}
