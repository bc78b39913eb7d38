package io.moestream.engine.model.v4;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.config.DeepSeekV4Config;
import io.moestream.engine.config.DeepSeekV4Config.AttentionType;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.DecoderLayer;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.model.ExpertLoader;
import io.moestream.engine.model.FeedForward;
import io.moestream.engine.model.RotaryEmbedding;
import io.moestream.engine.model.Router;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Linear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the dense part of a DeepSeek-V4 checkpoint, in DeepSeek's layout or transformers' ({@link V4TensorNames}):
 * hyper-connections, the attention of each layer type with its compressors and indexer, routers (learned or hashed)
 * and the shared expert, checking every tensor, routed experts included; multi-token-prediction tensors are ignored.
 */
public final class V4Model {
    private V4Model() {}

    public static DenseModel load(Checkpoint ckpt, ModelConfig config) throws IOException {
        V4TensorNames names = V4TensorNames.of(ckpt);
        DeepSeekV4Config v4 = config.v4();
        int hidden = config.hiddenSize();
        int streams = v4.hcMult();
        int mix = (2 + streams) * streams;
        int layerCount = config.numLayers();
        Linear embedding = ckpt.linear(names.embedding(), config.vocabSize(), hidden);
        RotaryEmbedding main = new RotaryEmbedding(v4.mainRope(), config.qkRopeHeadDim());
        RotaryEmbedding compress = new RotaryEmbedding(v4.compressRope(), config.qkRopeHeadDim());

        List<DecoderLayer> layers = new ArrayList<>();
        Linear[] mixing = new Linear[2 * layerCount];
        float[][] mixBase = new float[2 * layerCount][];
        float[][] mixScale = new float[2 * layerCount][];
        Compressor[] compressors = new Compressor[layerCount];
        Compressor[] indexers = new Compressor[layerCount];
        for (int l = 0; l < layerCount; l++) {
            String[] sites = {"hc_attn_", "hc_ffn_"};
            for (int s = 0; s < 2; s++) {
                mixing[2 * l + s] = HyperConnections.mixing(
                        ckpt.readFloats(names.layer(l, sites[s] + "fn"), mix, (long) streams * hidden),
                        streams,
                        hidden);
                mixBase[2 * l + s] = ckpt.readFloats(names.layer(l, sites[s] + "base"), mix);
                mixScale[2 * l + s] = ckpt.readFloats(names.layer(l, sites[s] + "scale"), 3);
            }
            V4Attention attention = loadAttention(ckpt, names, config, l, main, compress);
            compressors[l] = attention.compressor();
            indexers[l] =
                    attention.indexer() == null ? null : attention.indexer().compressor();
            layers.add(new DecoderLayer(
                    ckpt.readFloats(names.layer(l, "attn_norm.weight"), hidden),
                    ckpt.readFloats(names.layer(l, "ffn_norm.weight"), hidden),
                    attention,
                    null,
                    loadRouter(ckpt, names, config, l),
                    loadSharedExpert(ckpt, names, config, l)));
            for (int e = 0; e < config.numRoutedExperts(); e++) {
                ExpertLoader.checkPresent(ckpt, config, l, e);
            }
        }
        float[] finalNorm = ckpt.readFloats(names.finalNorm(), hidden);
        Linear head = config.tieWordEmbeddings() && !ckpt.has(names.head())
                ? embedding
                : ckpt.linear(names.head(), config.vocabSize(), hidden);
        HyperConnections residual = new HyperConnections(
                streams,
                hidden,
                v4.hcSinkhornIters(),
                v4.hcEps(),
                config.rmsNormEps(),
                mixing,
                mixBase,
                mixScale,
                new F32Linear(
                        ckpt.readFloats(names.hyperHead("fn"), streams, (long) streams * hidden),
                        streams,
                        streams * hidden),
                ckpt.readFloats(names.hyperHead("base"), streams),
                ckpt.readFloats(names.hyperHead("scale"), 1)[0]);
        for (String name : ckpt.names()) {
            if (V4TensorNames.isMultiTokenPrediction(name)) {
                ckpt.skip(name);
            }
        }
        ckpt.requireAllRead();
        DenseModel.CacheLayout cache = initialCapacity -> new V4Cache(config, compressors, indexers);
        return new DenseModel(config, embedding, layers, residual, finalNorm, head, cache);
    }

    private static V4Attention loadAttention(
            Checkpoint ckpt, V4TensorNames names, ModelConfig c, int l, RotaryEmbedding main, RotaryEmbedding compress)
            throws IOException {
        DeepSeekV4Config v4 = c.v4();
        int hidden = c.hiddenSize();
        int d = v4.headDim();
        int heads = c.numHeads();
        int qRank = c.qLoraRank();
        double eps = c.rmsNormEps();
        AttentionType type = v4.layerType(l);
        String at = "attn.";
        // DeepSeek names the key/value norm kv_norm; transformers' save_pretrained writes it back as norm.
        String kvNorm = ckpt.has(names.layer(l, at + "kv_norm.weight")) ? "kv_norm.weight" : "norm.weight";
        Compressor compressor = null;
        Indexer indexer = null;
        if (type != AttentionType.SLIDING) {
            boolean csa = type == AttentionType.COMPRESSED_SPARSE;
            compressor =
                    loadCompressor(ckpt, names.layer(l, at + "compressor."), c, d, v4.compressRate(l), csa, compress);
            if (csa) {
                int di = v4.indexHeadDim();
                String ix = names.layer(l, at + "indexer.");
                indexer = new Indexer(
                        loadCompressor(ckpt, ix + "compressor.", c, di, v4.csaRate(), true, compress),
                        ckpt.linear(ix + "wq_b.weight", v4.indexHeads() * di, qRank),
                        ckpt.linear(ix + "weights_proj.weight", v4.indexHeads(), hidden),
                        v4.indexTopK(),
                        compress);
            }
        }
        int groups = v4.outputGroups();
        return new V4Attention(
                c,
                type,
                ckpt.linear(names.layer(l, at + "wq_a.weight"), qRank, hidden),
                ckpt.readFloats(names.layer(l, at + "q_norm.weight"), qRank),
                ckpt.linear(names.layer(l, at + "wq_b.weight"), heads * d, qRank),
                ckpt.linear(names.layer(l, at + "wkv.weight"), d, hidden),
                ckpt.readFloats(names.layer(l, at + kvNorm), d),
                ckpt.readFloats(names.layer(l, at + "attn_sink"), heads),
                ckpt.linearGroups(
                        names.layer(l, at + "wo_a.weight"), groups * v4.outputRank(), heads * d / groups, groups),
                ckpt.linear(names.layer(l, at + "wo_b.weight"), hidden, groups * v4.outputRank()),
                type == AttentionType.SLIDING ? main : compress,
                compressor,
                indexer);
    }

    private static Compressor loadCompressor(
            Checkpoint ckpt, String prefix, ModelConfig c, int d, int rate, boolean overlap, RotaryEmbedding rope)
            throws IOException {
        int width = overlap ? 2 * d : d;
        int hidden = c.hiddenSize();
        return new Compressor(
                ckpt.linear(prefix + "wkv.weight", width, hidden),
                ckpt.linear(prefix + "wgate.weight", width, hidden),
                ckpt.readFloats(prefix + "ape", rate, width),
                ckpt.readFloats(prefix + "norm.weight", d),
                c.rmsNormEps(),
                rate,
                overlap,
                rope);
    }

    private static Router loadRouter(Checkpoint ckpt, V4TensorNames names, ModelConfig c, int l) throws IOException {
        int experts = c.numRoutedExperts();
        int hidden = c.hiddenSize();
        F32Linear gate =
                new F32Linear(ckpt.readFloats(names.layer(l, "ffn.gate.weight"), experts, hidden), experts, hidden);
        if (c.v4().isHashLayer(l)) {
            int[] table = ckpt.readInts(
                    names.layer(l, "ffn.gate.tid2eid"),
                    c.vocabSize(),
                    c.router().topK());
            return new Router(c.router(), gate, null, table);
        }
        return new Router(c.router(), gate, ckpt.readFloats(names.layer(l, "ffn.gate.bias"), experts), null);
    }

    /** V4 has exactly one shared expert of width {@code moe_intermediate_size}, whatever {@code n_shared_experts}. */
    private static FeedForward loadSharedExpert(Checkpoint ckpt, V4TensorNames names, ModelConfig c, int l)
            throws IOException {
        int hidden = c.hiddenSize();
        int inter = c.moeIntermediateSize();
        String prefix = names.layer(l, "ffn.shared_experts.");
        return new FeedForward(
                ckpt.linear(prefix + "w1.weight", inter, hidden),
                ckpt.linear(prefix + "w3.weight", inter, hidden),
                ckpt.linear(prefix + "w2.weight", hidden, inter),
                ExpertLoader.swigluLimit(c));
    }
}
