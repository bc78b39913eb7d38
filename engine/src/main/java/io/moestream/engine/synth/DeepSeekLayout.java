package io.moestream.engine.synth;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.config.ModelFamily;
import io.moestream.engine.model.TensorNames;
import io.moestream.engine.synth.SyntheticWeight.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of a DeepSeek-V2/V3 checkpoint as published on Hugging Face (one tensor per routed expert, the layout
 * transformers converts from when it loads), in the order of the model's state dict, which decides how the
 * tensors fall into shards.
 */
final class DeepSeekLayout {
    private final ModelConfig config;
    private final List<SyntheticWeight> weights = new ArrayList<>();

    private DeepSeekLayout(ModelConfig config) {
        this.config = config;
    }

    static List<SyntheticWeight> of(ModelConfig config) {
        DeepSeekLayout layout = new DeepSeekLayout(config);
        layout.addAll();
        return List.copyOf(layout.weights);
    }

    private void addAll() {
        int hidden = config.hiddenSize();
        add(TensorNames.EMBED, Kind.EMBEDDING, config.vocabSize(), hidden);
        for (int layer = 0; layer < config.numLayers(); layer++) {
            String prefix = TensorNames.layer(layer, "");
            addAttention(prefix + "self_attn.");
            if (config.isMoeLayer(layer)) {
                addMoe(prefix + "mlp.");
            } else {
                addMlp(prefix + "mlp.", config.intermediateSize(), Kind.PROJECTION);
            }
            add(prefix + "input_layernorm.weight", Kind.NORM, hidden);
            add(prefix + "post_attention_layernorm.weight", Kind.NORM, hidden);
        }
        add(TensorNames.FINAL_NORM, Kind.NORM, hidden);
        if (!config.tieWordEmbeddings()) {
            add(TensorNames.LM_HEAD, Kind.HEAD, config.vocabSize(), hidden);
        }
    }

    private void addAttention(String prefix) {
        int hidden = config.hiddenSize();
        int heads = config.numHeads();
        int kvLora = config.kvLoraRank();
        if (config.hasQLora()) {
            add(prefix + "q_a_proj.weight", Kind.PROJECTION, config.qLoraRank(), hidden);
            add(prefix + "q_a_layernorm.weight", Kind.NORM, config.qLoraRank());
            add(prefix + "q_b_proj.weight", Kind.PROJECTION, heads * config.qkHeadDim(), config.qLoraRank());
        } else {
            add(prefix + "q_proj.weight", Kind.PROJECTION, heads * config.qkHeadDim(), hidden);
        }
        add(prefix + "kv_a_proj_with_mqa.weight", Kind.PROJECTION, kvLora + config.qkRopeHeadDim(), hidden);
        add(prefix + "kv_a_layernorm.weight", Kind.NORM, kvLora);
        add(prefix + "kv_b_proj.weight", Kind.PROJECTION, heads * (config.qkNopeHeadDim() + config.vHeadDim()), kvLora);
        add(prefix + "o_proj.weight", Kind.PROJECTION, hidden, heads * config.vHeadDim());
    }

    private void addMoe(String prefix) {
        int experts = config.numRoutedExperts();
        for (int expert = 0; expert < experts; expert++) {
            addMlp(prefix + "experts." + expert + ".", config.moeIntermediateSize(), Kind.EXPERT);
        }
        add(prefix + "gate.weight", Kind.ROUTER, experts, config.hiddenSize());
        if (config.family() == ModelFamily.DEEPSEEK_V3) {
            add(prefix + "gate.e_score_correction_bias", Kind.ROUTER_BIAS, experts);
        }
        if (config.numSharedExperts() > 0) {
            addMlp(
                    prefix + "shared_experts.",
                    config.moeIntermediateSize() * config.numSharedExperts(),
                    Kind.PROJECTION);
        }
    }

    private void addMlp(String prefix, int intermediate, Kind kind) {
        int hidden = config.hiddenSize();
        add(prefix + "gate_proj.weight", kind, intermediate, hidden);
        add(prefix + "up_proj.weight", kind, intermediate, hidden);
        add(prefix + "down_proj.weight", kind, hidden, intermediate);
    }

    private void add(String name, Kind kind, long... shape) {
        weights.add(new SyntheticWeight(name, shape, kind));
    }
}
