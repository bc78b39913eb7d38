package io.moestream.engine.model.mla;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.Attention;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.RotaryEmbedding;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.LinearBatch;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tensor.SharedKeyAttention;

/**
 * Multi-head latent attention (DeepSeek-V2/V3) over the compressed cache, always in the absorbed form: the query's
 * no-rope part is multiplied into the latent space ({@code q_lat = W_UK^T q_nope}), scores are {@code q_lat . c +
 * q_pe . k_pe}, the weighted latents are expanded by {@code W_UV} per head. Prefill and decode rows take this same
 * path, so a token's numbers do not depend on whether it was computed in a prompt chunk or a decode step (what
 * recomputation after a failure relies on).
 */
public final class MlaAttention implements Attention {
    private final ModelConfig config;
    private final Linear qA;
    private final float[] qANorm;
    private final Linear qB;
    private final Linear qProj;
    private final Linear kvA;
    private final float[] kvANorm;
    /** Per head, {@code W_UK^T}: {@code [kv_lora_rank, qk_nope_head_dim]}. */
    private final F32Linear[] absorbKey;
    /** Per head, {@code W_UV}: {@code [v_head_dim, kv_lora_rank]}. */
    private final F32Linear[] expandValue;

    private final Linear oProj;
    private final RotaryEmbedding rope;
    /**
     * transformers builds {@code q_a_layernorm} and {@code kv_a_layernorm} with the RMSNorm default eps, not the
     * config's {@code rms_norm_eps}.
     */
    static final double LATENT_NORM_EPS = 1e-6;

    private final float softmaxScale;

    /**
     * @param qA {@code q_a_proj} or null without query compression; then {@code qProj} is used
     * @param kvB {@code kv_b_proj}, {@code [heads * (nope + v), kv_lora_rank]}, split here into the absorbed forms
     */
    public MlaAttention(
            ModelConfig config,
            Linear qA,
            float[] qANorm,
            Linear qB,
            Linear qProj,
            Linear kvA,
            float[] kvANorm,
            Linear kvB,
            Linear oProj,
            RotaryEmbedding rope) {
        this.config = config;
        this.qA = qA;
        this.qANorm = qANorm;
        this.qB = qB;
        this.qProj = qProj;
        this.kvA = kvA;
        this.kvANorm = kvANorm;
        this.oProj = oProj;
        this.rope = rope;
        this.softmaxScale = (float) config.softmaxScale();
        int heads = config.numHeads();
        int nope = config.qkNopeHeadDim();
        int v = config.vHeadDim();
        int rank = config.kvLoraRank();
        this.absorbKey = new F32Linear[heads];
        this.expandValue = new F32Linear[heads];
        float[] row = new float[rank];
        for (int h = 0; h < heads; h++) {
            float[] keyT = new float[rank * nope];
            for (int j = 0; j < nope; j++) {
                kvB.copyRow(h * (nope + v) + j, row, 0);
                for (int c = 0; c < rank; c++) {
                    keyT[c * nope + j] = row[c];
                }
            }
            absorbKey[h] = new F32Linear(keyT, rank, nope);
            float[] value = new float[v * rank];
            for (int j = 0; j < v; j++) {
                kvB.copyRow(h * (nope + v) + nope + j, value, j * rank);
            }
            expandValue[h] = new F32Linear(value, v, rank);
        }
    }

    @Override
    public Attention.Buffers newBuffers(int capacity) {
        return new Buffers(config, capacity);
    }

    @Override
    public long bytes() {
        long total = kvA.bytes() + oProj.bytes() + 4L * kvANorm.length;
        total += qA != null ? qA.bytes() + qB.bytes() + 4L * qANorm.length : qProj.bytes();
        for (int h = 0; h < absorbKey.length; h++) {
            total += absorbKey[h].bytes() + expandValue[h].bytes();
        }
        return total;
    }

    /**
     * Attention for the rows of a micro-batch: writes each row's latent and rope key to its sequence's cache at its
     * position, then attends over positions {@code 0..pos} of that sequence, and writes {@code o_proj} output to
     * {@code out[t * hidden ..]}.
     */
    @Override
    public void forward(
            int layer, float[] xNorm, MicroBatch batch, float[] out, Attention.Buffers buffers, Parallel parallel) {
        Buffers ws = (Buffers) buffers;
        int rows = batch.rows();
        int hidden = config.hiddenSize();
        int heads = config.numHeads();
        int nope = config.qkNopeHeadDim();
        int ropeDim = config.qkRopeHeadDim();
        int qkHead = config.qkHeadDim();
        int rank = config.kvLoraRank();
        int qWidth = heads * qkHead;
        int kvWidth = rank + ropeDim;

        float[] q = ws.q;
        float[] kv = ws.kv;
        // The projections of the hidden state (query or its compression, and the latent) as one parallel region.
        LinearBatch products = ws.products;
        products.clear();
        products.add(kvA, xNorm, 0, hidden, rows, kv, 0, kvWidth);
        if (qA != null) {
            int qRank = config.qLoraRank();
            products.add(qA, xNorm, 0, hidden, rows, ws.qCompressed, 0, qRank);
            products.run(parallel);
            for (int t = 0; t < rows; t++) {
                Kernels.rmsNorm(ws.qCompressed, t * qRank, qANorm, LATENT_NORM_EPS, ws.qCompressed, t * qRank, qRank);
            }
            qB.forward(ws.qCompressed, 0, qRank, rows, q, 0, qWidth, parallel);
        } else {
            products.add(qProj, xNorm, 0, hidden, rows, q, 0, qWidth);
            products.run(parallel);
        }

        float[] cos = ws.cos;
        float[] sin = ws.sin;
        for (int t = 0; t < rows; t++) {
            int pos = batch.position(t);
            rope.cosSin(pos, cos, sin);
            int kvOff = t * kvWidth;
            Kernels.rmsNorm(kv, kvOff, kvANorm, LATENT_NORM_EPS, kv, kvOff, rank);
            rope.rotate(kv, kvOff + rank, cos, sin);
            for (int h = 0; h < heads; h++) {
                rope.rotate(q, t * qWidth + h * qkHead + nope, cos, sin);
            }
            ((KvCache) batch.cache(t)).write(layer, pos, kv, kvOff, kvOff + rank);
        }

        // q_lat[t][h] = W_UK[h]^T q_nope[t][h], batched over the rows.
        int latWidth = heads * rank;
        products.clear();
        for (int h = 0; h < heads; h++) {
            products.add(absorbKey[h], q, h * qkHead, qWidth, rows, ws.qLatent, h * rank, latWidth);
        }
        products.run(parallel);
        int groups = (heads + SharedKeyAttention.HEADS - 1) / SharedKeyAttention.HEADS;
        parallel.forRange(rows * groups, 1, (from, to) -> attendRange(layer, from, to, batch, ws));
        int vWidth = heads * config.vHeadDim();
        products.clear();
        for (int h = 0; h < heads; h++) {
            products.add(
                    expandValue[h], ws.outLatent, h * rank, latWidth, rows, ws.attnOut, h * config.vHeadDim(), vWidth);
        }
        products.run(parallel);
        products.clear();
        oProj.forward(ws.attnOut, 0, vWidth, rows, out, 0, hidden, parallel);
    }

    /** Softmax attention of (row, head group) items {@code [from, to)} over their sequences' caches. */
    private void attendRange(int layer, int from, int to, MicroBatch batch, Buffers ws) {
        int heads = config.numHeads();
        int groups = (heads + SharedKeyAttention.HEADS - 1) / SharedKeyAttention.HEADS;
        int rank = config.kvLoraRank();
        int ropeDim = config.qkRopeHeadDim();
        int qkHead = config.qkHeadDim();
        int nope = config.qkNopeHeadDim();
        int latWidth = heads * rank;
        SharedKeyAttention.Scratch scratch = SharedKeyAttention.Scratch.get();
        for (int item = from; item < to; item++) {
            int t = item / groups;
            int firstHead = (item % groups) * SharedKeyAttention.HEADS;
            for (int s = 0; s < SharedKeyAttention.HEADS; s++) {
                int h = Math.min(firstHead + s, heads - 1);
                scratch.latentOffsets[s] = t * latWidth + h * rank;
                scratch.ropeOffsets[s] = t * heads * qkHead + h * qkHead + nope;
                scratch.outOffsets[s] = t * latWidth + h * rank;
            }
            int positions = batch.position(t) + 1;
            int stride =
                    (positions + SharedKeyAttention.BLOCK - 1) / SharedKeyAttention.BLOCK * SharedKeyAttention.BLOCK;
            float[] scores = scratch.scores(stride);
            KvCache cache = (KvCache) batch.cache(t);
            SharedKeyAttention.scores(
                    cache.keys(layer),
                    rank,
                    ropeDim,
                    positions,
                    ws.qLatent,
                    scratch.latentOffsets,
                    ws.q,
                    scratch.ropeOffsets,
                    softmaxScale,
                    scores,
                    stride);
            for (int s = 0; s < SharedKeyAttention.HEADS; s++) {
                Kernels.softmax(scores, s * stride, positions);
            }
            SharedKeyAttention.values(
                    cache.latent(layer), rank, positions, scores, stride, ws.outLatent, scratch.outOffsets);
        }
    }

    @Override
    public double multiplyAdds(int position) {
        long hidden = config.hiddenSize();
        long heads = config.numHeads();
        long rank = config.kvLoraRank();
        long query = config.hasQLora()
                ? hidden * config.qLoraRank() + (long) config.qLoraRank() * heads * config.qkHeadDim()
                : hidden * heads * config.qkHeadDim();
        // Absorbed MLA: W_UK^T per head on the query, W_UV per head on the attended latent.
        long projections = query
                + hidden * (rank + config.qkRopeHeadDim())
                + heads * rank * config.qkNopeHeadDim()
                + heads * rank * config.vHeadDim()
                + heads * config.vHeadDim() * hidden;
        return projections + (double) heads * (position + 1) * (2 * rank + config.qkRopeHeadDim());
    }

    /** The buffers of one micro-batch in flight. */
    static final class Buffers implements Attention.Buffers {
        final float[] q;
        final float[] qCompressed;
        final float[] kv;
        final float[] qLatent;
        final float[] outLatent;
        final float[] attnOut;
        final float[] cos;
        final float[] sin;
        /** Independent products of one step of attention, run as one parallel region. */
        final LinearBatch products = new LinearBatch();

        Buffers(ModelConfig c, int capacity) {
            q = new float[capacity * c.numHeads() * c.qkHeadDim()];
            qCompressed = new float[capacity * Math.max(1, c.qLoraRank())];
            kv = new float[capacity * (c.kvLoraRank() + c.qkRopeHeadDim())];
            qLatent = new float[capacity * c.numHeads() * c.kvLoraRank()];
            outLatent = new float[capacity * c.numHeads() * c.kvLoraRank()];
            attnOut = new float[capacity * c.numHeads() * c.vHeadDim()];
            cos = new float[c.qkRopeHeadDim() / 2];
            sin = new float[c.qkRopeHeadDim() / 2];
        }
    }
}
