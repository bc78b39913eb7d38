package io.moestream.engine.model;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.CheckpointException;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.config.ModelFamily;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Linear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything of a DeepSeek model but its routed experts: embeddings, every layer's norms, attention, dense MLP,
 * router and shared experts, the final norm and the LM head. Loading checks every tensor of the checkpoint,
 * experts included (names and shapes), so an incomplete or foreign checkpoint fails here with the tensor's name.
 */
public final class DenseModel {
    private final ModelConfig config;
    private final Linear embedding;
    private final List<DecoderLayer> layers;
    private final float[] finalNorm;
    private final Linear lmHead;

    private DenseModel(
            ModelConfig config, Linear embedding, List<DecoderLayer> layers, float[] finalNorm, Linear lmHead) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    public ModelConfig config() {
        return config;
    }

    DecoderLayer layer(int index) {
        return layers.get(index);
    }

    Linear embedding() {
        return embedding;
    }

    float[] finalNorm() {
        return finalNorm;
    }

    Linear lmHead() {
        return lmHead;
    }

    /** Bytes of weights held (a tied LM head counted once). */
    public long bytes() {
        long total = embedding.bytes() + 4L * finalNorm.length + (lmHead == embedding ? 0 : lmHead.bytes());
        for (DecoderLayer layer : layers) {
            total += layer.bytes();
        }
        return total;
    }

    public static DenseModel load(Checkpoint ckpt, ModelConfig config) throws IOException {
        if (config.family() != ModelFamily.DEEPSEEK_V3 && config.family() != ModelFamily.DEEPSEEK_V2) {
            throw new CheckpointException("no dense loader for family " + config.family());
        }
        int hidden = config.hiddenSize();
        Linear embedding = ckpt.linear(TensorNames.EMBED, config.vocabSize(), hidden);
        RotaryEmbedding rope = new RotaryEmbedding(config.rope(), config.qkRopeHeadDim());
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            layers.add(loadLayer(ckpt, config, l, rope));
        }
        float[] finalNorm = ckpt.readFloats(TensorNames.FINAL_NORM, hidden);
        Linear lmHead = config.tieWordEmbeddings() && !ckpt.has(TensorNames.LM_HEAD)
                ? embedding
                : ckpt.linear(TensorNames.LM_HEAD, config.vocabSize(), hidden);
        for (String name : ckpt.names()) {
            // Multi-token-prediction layers (num_nextn_predict_layers) are not part of next-token inference,
            // as in transformers.
            if (TensorNames.layerOf(name) >= config.numLayers()) {
                ckpt.skip(name);
            }
        }
        ckpt.requireAllRead();
        return new DenseModel(config, embedding, List.copyOf(layers), finalNorm, lmHead);
    }

    private static DecoderLayer loadLayer(Checkpoint ckpt, ModelConfig c, int l, RotaryEmbedding rope)
            throws IOException {
        int hidden = c.hiddenSize();
        int heads = c.numHeads();
        Linear qA = null;
        float[] qANorm = null;
        Linear qB = null;
        Linear qProj = null;
        if (c.hasQLora()) {
            qA = ckpt.linear(TensorNames.layer(l, "self_attn.q_a_proj.weight"), c.qLoraRank(), hidden);
            qANorm = ckpt.readFloats(TensorNames.layer(l, "self_attn.q_a_layernorm.weight"), c.qLoraRank());
            qB = ckpt.linear(TensorNames.layer(l, "self_attn.q_b_proj.weight"), heads * c.qkHeadDim(), c.qLoraRank());
        } else {
            qProj = ckpt.linear(TensorNames.layer(l, "self_attn.q_proj.weight"), heads * c.qkHeadDim(), hidden);
        }
        Linear kvA = ckpt.linear(
                TensorNames.layer(l, "self_attn.kv_a_proj_with_mqa.weight"),
                c.kvLoraRank() + c.qkRopeHeadDim(),
                hidden);
        float[] kvANorm = ckpt.readFloats(TensorNames.layer(l, "self_attn.kv_a_layernorm.weight"), c.kvLoraRank());
        Linear kvB = ckpt.linear(
                TensorNames.layer(l, "self_attn.kv_b_proj.weight"),
                heads * (c.qkNopeHeadDim() + c.vHeadDim()),
                c.kvLoraRank());
        Linear oProj = ckpt.linear(TensorNames.layer(l, "self_attn.o_proj.weight"), hidden, heads * c.vHeadDim());
        MlaAttention attention = new MlaAttention(c, qA, qANorm, qB, qProj, kvA, kvANorm, kvB, oProj, rope);

        float[] inputNorm = ckpt.readFloats(TensorNames.layer(l, "input_layernorm.weight"), hidden);
        float[] postNorm = ckpt.readFloats(TensorNames.layer(l, "post_attention_layernorm.weight"), hidden);
        if (!c.isMoeLayer(l)) {
            FeedForward mlp = feedForward(ckpt, TensorNames.layer(l, "mlp."), hidden, c.intermediateSize());
            return new DecoderLayer(inputNorm, postNorm, attention, mlp, null, null);
        }
        int experts = c.numRoutedExperts();
        F32Linear gate = new F32Linear(
                ckpt.readFloats(TensorNames.layer(l, "mlp.gate.weight"), experts, hidden), experts, hidden);
        String biasName = TensorNames.layer(l, "mlp.gate.e_score_correction_bias");
        float[] bias = c.family() == ModelFamily.DEEPSEEK_V3 ? ckpt.readFloats(biasName, experts) : null;
        Router router = new Router(c.router(), gate, bias);
        FeedForward shared = c.numSharedExperts() > 0
                ? feedForward(
                        ckpt,
                        TensorNames.layer(l, "mlp.shared_experts."),
                        hidden,
                        c.moeIntermediateSize() * c.numSharedExperts())
                : null;
        for (int e = 0; e < experts; e++) {
            ExpertLoader.checkPresent(ckpt, c, l, e);
        }
        return new DecoderLayer(inputNorm, postNorm, attention, null, router, shared);
    }

    static FeedForward feedForward(Checkpoint ckpt, String prefix, int hidden, int intermediate) throws IOException {
        return new FeedForward(
                ckpt.linear(prefix + "gate_proj.weight", intermediate, hidden),
                ckpt.linear(prefix + "up_proj.weight", intermediate, hidden),
                ckpt.linear(prefix + "down_proj.weight", hidden, intermediate));
    }
}
