package io.moestream.engine.model.mla;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.config.ModelFamily;
import io.moestream.engine.model.DecoderLayer;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.model.ExpertLoader;
import io.moestream.engine.model.FeedForward;
import io.moestream.engine.model.PlainResidual;
import io.moestream.engine.model.RotaryEmbedding;
import io.moestream.engine.model.Router;
import io.moestream.engine.model.TensorNames;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Linear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the dense part of a DeepSeek-V2/V3 checkpoint (Hugging Face's published names): MLA attention, dense MLPs,
 * routers with their correction bias and shared experts, checking every tensor, experts included.
 */
public final class MlaModel {
    private MlaModel() {}

    public static DenseModel load(Checkpoint ckpt, ModelConfig config) throws IOException {
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
        DenseModel.CacheLayout cache = initialCapacity ->
                new KvCache(config.numLayers(), config.kvLoraRank(), config.qkRopeHeadDim(), initialCapacity);
        return new DenseModel(config, embedding, layers, new PlainResidual(hidden), finalNorm, lmHead, cache);
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
            FeedForward mlp = ExpertLoader.feedForward(ckpt, TensorNames.layer(l, "mlp."), c, c.intermediateSize());
            return new DecoderLayer(inputNorm, postNorm, attention, mlp, null, null);
        }
        int experts = c.numRoutedExperts();
        F32Linear gate = new F32Linear(
                ckpt.readFloats(TensorNames.layer(l, "mlp.gate.weight"), experts, hidden), experts, hidden);
        String biasName = TensorNames.layer(l, "mlp.gate.e_score_correction_bias");
        float[] bias = c.family() == ModelFamily.DEEPSEEK_V3 ? ckpt.readFloats(biasName, experts) : null;
        Router router = new Router(c.router(), gate, bias, null);
        FeedForward shared = c.numSharedExperts() > 0
                ? ExpertLoader.feedForward(
                        ckpt,
                        TensorNames.layer(l, "mlp.shared_experts."),
                        c,
                        c.moeIntermediateSize() * c.numSharedExperts())
                : null;
        for (int e = 0; e < experts; e++) {
            ExpertLoader.checkPresent(ckpt, c, l, e);
        }
        return new DecoderLayer(inputNorm, postNorm, attention, null, router, shared);
    }
}
