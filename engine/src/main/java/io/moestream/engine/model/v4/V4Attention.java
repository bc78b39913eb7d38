package io.moestream.engine.model.v4;

import io.moestream.engine.config.DeepSeekV4Config;
import io.moestream.engine.config.DeepSeekV4Config.AttentionType;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.Attention;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.RotaryEmbedding;
import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.LinearBatch;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tensor.SharedKeyAttention;

/**
 * DeepSeek-V4's attention block (transformers' {@code DeepseekV4Attention}), for all three layer types:
 *
 * <pre>
 *   q_res = rms(x Wq_a; q_norm)             the query's LoRA residual (also the indexer's input)
 *   q     = rope(rms(q_res Wq_b) per head)  nh heads of D; rope on each head's last rd channels (interleaved pairs)
 *   kv    = rope(rms(x Wkv; kv_norm))       ONE head of D, both key and value
 *   keys  = the sliding window (the last W positions, this one included)
 *           + HCA: every compressed entry whose window has ended by this position
 *           + CSA: the index_topk entries the Lightning Indexer picks among those
 *   o_h   = softmax(q_h . keys * D^-0.5, with the head's sink logit) . keys, de-roped at the query position
 *   out   = (o per group of heads) Wo_a[group] then Wo_b   (the grouped output projection)
 * </pre>
 *
 * Sliding layers rope with the {@code main} table, CSA and HCA layers (and their compressed entries) with the {@code
 * compress} one. Every row runs the same code whether it is part of a prompt chunk or a decode step, and a
 * compressed entry depends only on the tokens of its window, so a token's numbers are the same however its sequence
 * was split into passes (DESIGN.md section 3).
 */
public final class V4Attention implements Attention {
    private final ModelConfig config;
    private final AttentionType type;
    private final int heads;
    private final int headDim;
    private final int window;
    private final double eps;
    private final Linear queryA;
    private final float[] queryNorm;
    private final Linear queryB;
    private final Linear keyValue;
    private final float[] keyValueNorm;
    private final float[] sinks;
    /** {@code wo_a} split by group: each {@code [R, nh * D / G]}. */
    private final Linear[] outputA;

    private final Linear outputB;
    private final RotaryEmbedding rope;
    private final Compressor compressor;
    private final Indexer indexer;
    private final float scale;

    /**
     * @param rope this layer's table: {@code main} for a sliding layer, else {@code compress}
     * @param compressor null for a sliding layer
     * @param indexer only for a CSA layer
     */
    V4Attention(
            ModelConfig config,
            AttentionType type,
            Linear queryA,
            float[] queryNorm,
            Linear queryB,
            Linear keyValue,
            float[] keyValueNorm,
            float[] sinks,
            Linear[] outputA,
            Linear outputB,
            RotaryEmbedding rope,
            Compressor compressor,
            Indexer indexer) {
        DeepSeekV4Config v4 = config.v4();
        this.config = config;
        this.type = type;
        this.heads = config.numHeads();
        this.headDim = v4.headDim();
        this.window = v4.slidingWindow();
        this.eps = config.rmsNormEps();
        this.queryA = queryA;
        this.queryNorm = queryNorm;
        this.queryB = queryB;
        this.keyValue = keyValue;
        this.keyValueNorm = keyValueNorm;
        this.sinks = sinks;
        this.outputA = outputA;
        this.outputB = outputB;
        this.rope = rope;
        this.compressor = compressor;
        this.indexer = indexer;
        this.scale = (float) Math.pow(headDim, -0.5);
        if ((type == AttentionType.SLIDING) != (compressor == null)
                || (type == AttentionType.COMPRESSED_SPARSE) != (indexer != null)) {
            throw new IllegalArgumentException("a " + type + " layer with the wrong compressors");
        }
    }

    AttentionType type() {
        return type;
    }

    Compressor compressor() {
        return compressor;
    }

    Indexer indexer() {
        return indexer;
    }

    @Override
    public Attention.Buffers newBuffers(int capacity) {
        return new Buffers(config, capacity);
    }

    @Override
    public long bytes() {
        long total = queryA.bytes() + queryB.bytes() + keyValue.bytes() + outputB.bytes();
        total += 4L * (queryNorm.length + keyValueNorm.length + sinks.length);
        for (Linear group : outputA) {
            total += group.bytes();
        }
        if (compressor != null) {
            total += compressor.bytes();
        }
        if (indexer != null) {
            total += indexer.bytes();
        }
        return total;
    }

    @Override
    public double multiplyAdds(int position) {
        long hidden = config.hiddenSize();
        long qRank = config.qLoraRank();
        long width = (long) heads * headDim;
        double total = hidden * qRank + qRank * width + hidden * headDim;
        total += width * outputA[0].outFeatures() + (double) outputB.inFeatures() * hidden;
        long keys = Math.min(position + 1, window);
        if (compressor != null) {
            total += 2.0 * hidden * compressor.width();
            int entries = (position + 1) / compressor.rate();
            keys += indexer == null ? entries : Math.min(entries, indexer.topK());
        }
        if (indexer != null) {
            long indexWidth = (long) indexer.heads() * indexer.headDim();
            total += 2.0 * hidden * indexer.compressor().width() + qRank * indexWidth + hidden * indexer.heads();
            int entries = (position + 1) / indexer.compressor().rate();
            if (entries > indexer.topK()) {
                total += (double) entries * indexWidth;
            }
        }
        return total + 2.0 * heads * keys * headDim;
    }

    @Override
    public void forward(
            int layer, float[] xNorm, MicroBatch batch, float[] out, Attention.Buffers buffers, Parallel parallel) {
        Buffers b = (Buffers) buffers;
        int rows = batch.rows();
        int hidden = config.hiddenSize();
        int qRank = config.qLoraRank();
        int width = heads * headDim;
        int ropeDim = rope.dim();
        b.locateSequences(batch, rows);

        // Everything that reads the attention input, as one parallel region.
        LinearBatch products = b.products;
        products.clear();
        products.add(queryA, xNorm, 0, hidden, rows, b.queryResidual, 0, qRank);
        products.add(keyValue, xNorm, 0, hidden, rows, b.keyValue, 0, headDim);
        if (compressor != null) {
            int cw = compressor.width();
            products.add(compressor.kvProjection(), xNorm, 0, hidden, rows, b.compressorKv, 0, cw);
            products.add(compressor.gateProjection(), xNorm, 0, hidden, rows, b.compressorGate, 0, cw);
        }
        if (indexer != null) {
            int iw = indexer.compressor().width();
            products.add(indexer.compressor().kvProjection(), xNorm, 0, hidden, rows, b.indexerKv, 0, iw);
            products.add(indexer.compressor().gateProjection(), xNorm, 0, hidden, rows, b.indexerGate, 0, iw);
            products.add(indexer.weightsProjection(), xNorm, 0, hidden, rows, b.indexerWeights, 0, indexer.heads());
        }
        products.run(parallel);
        for (int t = 0; t < rows; t++) {
            Kernels.rmsNorm(b.queryResidual, t * qRank, queryNorm, eps, b.queryResidual, t * qRank, qRank);
            Kernels.rmsNorm(b.keyValue, t * headDim, keyValueNorm, eps, b.keyValue, t * headDim, headDim);
            rope.cosSin(batch.position(t), b.cos, b.sin);
            rope.rotate(b.keyValue, t * headDim + headDim - ropeDim, b.cos, b.sin);
        }

        products.clear();
        products.add(queryB, b.queryResidual, 0, qRank, rows, b.query, 0, width);
        int indexWidth = indexer == null ? 0 : indexer.heads() * indexer.headDim();
        if (indexer != null) {
            products.add(indexer.queryProjection(), b.queryResidual, 0, qRank, rows, b.indexerQuery, 0, indexWidth);
        }
        products.run(parallel);
        products.clear();
        for (int t = 0; t < rows; t++) {
            rope.cosSin(batch.position(t), b.cos, b.sin);
            for (int h = 0; h < heads; h++) {
                int at = t * width + h * headDim;
                Kernels.rmsNormUnweighted(b.query, at, eps, b.query, at, headDim);
                rope.rotate(b.query, at + headDim - ropeDim, b.cos, b.sin);
            }
            if (indexer != null) {
                indexer.prepareQuery(
                        b.indexerQuery,
                        t * indexWidth,
                        b.indexerWeights,
                        t * indexer.heads(),
                        batch.position(t),
                        b.cos,
                        b.sin);
            }
        }

        // The compressors see each sequence's tokens in order; windows closed here are visible to the rows after.
        for (int t = 0; t < rows; t++) {
            V4Cache cache = (V4Cache) batch.cache(t);
            int position = batch.position(t);
            if (compressor != null) {
                int cw = compressor.width();
                compressor.append(
                        cache.compressor(layer),
                        position,
                        b.compressorKv,
                        t * cw,
                        b.compressorGate,
                        t * cw,
                        b.compressorScratch);
            }
            if (indexer != null) {
                int iw = indexer.compressor().width();
                indexer.compressor()
                        .append(
                                cache.indexer(layer),
                                position,
                                b.indexerKv,
                                t * iw,
                                b.indexerGate,
                                t * iw,
                                b.compressorScratch);
            }
        }
        if (indexer != null) {
            parallel.forRange(rows, 1, (from, to) -> selectRange(layer, from, to, batch, b));
        }
        int groups = (heads + SharedKeyAttention.HEADS - 1) / SharedKeyAttention.HEADS;
        parallel.forRange(rows * groups, 1, (from, to) -> attendRange(layer, from, to, batch, b));
        updateWindows(layer, batch, rows, b);

        int groupWidth = width / outputA.length;
        int rank = outputA[0].outFeatures();
        int mixed = outputA.length * rank;
        for (int g = 0; g < outputA.length; g++) {
            products.add(outputA[g], b.output, g * groupWidth, width, rows, b.grouped, g * rank, mixed);
        }
        products.run(parallel);
        products.clear();
        outputB.forward(b.grouped, 0, mixed, rows, out, 0, hidden, parallel);
    }

    /** The Lightning Indexer's choice for rows {@code [from, to)}. */
    private void selectRange(int layer, int from, int to, MicroBatch batch, Buffers b) {
        Scratch scratch = Scratch.get();
        int indexWidth = indexer.heads() * indexer.headDim();
        int topK = indexer.topK();
        for (int t = from; t < to; t++) {
            V4Cache cache = (V4Cache) batch.cache(t);
            Compressor.State keys = cache.indexer(layer);
            int visible = Math.min(
                    keys.count(), (batch.position(t) + 1) / indexer.compressor().rate());
            b.selectedCount[t] = indexer.select(
                    b.indexerQuery,
                    t * indexWidth,
                    b.indexerWeights,
                    t * indexer.heads(),
                    keys,
                    visible,
                    scratch.indexScores(visible),
                    scratch.heap(topK),
                    b.selected,
                    t * topK);
        }
    }

    /** Softmax attention of (row, group of 8 heads) items {@code [from, to)}: each row's keys gathered once. */
    private void attendRange(int layer, int from, int to, MicroBatch batch, Buffers b) {
        int groups = (heads + SharedKeyAttention.HEADS - 1) / SharedKeyAttention.HEADS;
        int width = heads * headDim;
        int ropeDim = rope.dim();
        Scratch scratch = Scratch.get();
        SharedKeyAttention.Scratch offsets = SharedKeyAttention.Scratch.get();
        int gathered = -1;
        int keys = 0;
        for (int item = from; item < to; item++) {
            int t = item / groups;
            if (t != gathered) {
                keys = gatherKeys(layer, t, batch, b, scratch);
                gathered = t;
            }
            int first = (item % groups) * SharedKeyAttention.HEADS;
            for (int s = 0; s < SharedKeyAttention.HEADS; s++) {
                int h = Math.min(first + s, heads - 1);
                offsets.latentOffsets[s] = t * width + h * headDim;
                offsets.outOffsets[s] = t * width + h * headDim;
            }
            int stride = (keys + SharedKeyAttention.BLOCK - 1) / SharedKeyAttention.BLOCK * SharedKeyAttention.BLOCK;
            float[] scores = offsets.scores(stride);
            SharedKeyAttention.scores(
                    scratch.blockedKeys,
                    headDim,
                    0,
                    keys,
                    b.query,
                    offsets.latentOffsets,
                    b.query,
                    offsets.latentOffsets,
                    scale,
                    scores,
                    stride);
            for (int s = 0; s < SharedKeyAttention.HEADS; s++) {
                Kernels.softmaxWithSink(scores, s * stride, keys, sinks[Math.min(first + s, heads - 1)]);
            }
            SharedKeyAttention.values(scratch.keys, headDim, keys, scores, stride, b.output, offsets.outOffsets);
            // V = K carries the keys' rotation: turn it back at the query's position (relative positions remain).
            scratch.ensureRope(ropeDim / 2);
            rope.cosSin(batch.position(t), scratch.cos, scratch.sin);
            for (int i = 0; i < scratch.sin.length; i++) {
                scratch.sin[i] = -scratch.sin[i];
            }
            for (int h = first; h < Math.min(first + SharedKeyAttention.HEADS, heads); h++) {
                rope.rotate(b.output, t * width + h * headDim + headDim - ropeDim, scratch.cos, scratch.sin);
            }
        }
    }

    /**
     * Gathers the keys of row {@code t} into {@code scratch} (row-major and in blocks of 8): the window positions from
     * the cache's ring (before this pass) or this pass's rows, then the compressed entries it sees. Returns the count.
     */
    private int gatherKeys(int layer, int t, MicroBatch batch, Buffers b, Scratch scratch) {
        V4Cache cache = (V4Cache) batch.cache(t);
        int position = batch.position(t);
        int first = b.sequenceStart[t];
        int firstPosition = batch.position(first);
        int from = Math.max(0, position - window + 1);
        int compressed = 0;
        Compressor.State entries = null;
        if (compressor != null) {
            entries = cache.compressor(layer);
            compressed = indexer == null
                    ? Math.min(entries.count(), (position + 1) / compressor.rate())
                    : b.selectedCount[t];
        }
        int count = position - from + 1 + compressed;
        scratch.ensure(count, headDim);
        int n = 0;
        float[] ring = cache.window(layer);
        int ringRows = cache.windowRows();
        for (int p = from; p <= position; p++, n++) {
            if (p < firstPosition) {
                scratch.put(n, ring, (p % ringRows) * headDim, headDim);
            } else {
                scratch.put(n, b.keyValue, (first + p - firstPosition) * headDim, headDim);
            }
        }
        for (int i = 0; i < compressed; i++, n++) {
            int entry = indexer == null ? i : b.selected[t * indexer.topK() + i];
            scratch.put(n, entries.entries(), entry * headDim, headDim);
        }
        scratch.padBlock(count, headDim);
        return count;
    }

    /** Keeps the last {@code W - 1} key/value rows of each sequence of the pass in its ring. */
    private void updateWindows(int layer, MicroBatch batch, int rows, Buffers b) {
        for (int t = 0; t < rows; t++) {
            V4Cache cache = (V4Cache) batch.cache(t);
            int ringRows = cache.windowRows();
            if (ringRows > 0) {
                int at = (batch.position(t) % ringRows) * headDim;
                System.arraycopy(b.keyValue, t * headDim, cache.window(layer), at, headDim);
            }
        }
    }

    /** The buffers of one micro-batch in flight, sized for every layer type of the model. */
    static final class Buffers implements Attention.Buffers {
        final float[] queryResidual;
        final float[] query;
        final float[] keyValue;
        final float[] compressorKv;
        final float[] compressorGate;
        final float[] indexerKv;
        final float[] indexerGate;
        final float[] indexerWeights;
        final float[] indexerQuery;
        final float[] output;
        final float[] grouped;
        final int[] selected;
        final int[] selectedCount;
        /** For each row, the first row of its sequence in this pass. */
        final int[] sequenceStart;

        final float[] cos;
        final float[] sin;
        final Compressor.Scratch compressorScratch;
        final LinearBatch products = new LinearBatch();

        Buffers(ModelConfig c, int capacity) {
            DeepSeekV4Config v4 = c.v4();
            int d = v4.headDim();
            int di = v4.indexHeadDim();
            queryResidual = new float[capacity * c.qLoraRank()];
            query = new float[capacity * c.numHeads() * d];
            keyValue = new float[capacity * d];
            compressorKv = new float[capacity * 2 * d];
            compressorGate = new float[capacity * 2 * d];
            indexerKv = new float[capacity * 2 * di];
            indexerGate = new float[capacity * 2 * di];
            indexerWeights = new float[capacity * v4.indexHeads()];
            indexerQuery = new float[capacity * v4.indexHeads() * di];
            output = new float[capacity * c.numHeads() * d];
            grouped = new float[capacity * v4.outputGroups() * v4.outputRank()];
            selected = new int[capacity * v4.indexTopK()];
            selectedCount = new int[capacity];
            sequenceStart = new int[capacity];
            cos = new float[c.qkRopeHeadDim() / 2];
            sin = new float[c.qkRopeHeadDim() / 2];
            int slots = Math.max(2 * v4.csaRate(), v4.hcaRate());
            compressorScratch = new Compressor.Scratch(slots, Math.max(d, di), c.qkRopeHeadDim());
        }

        /**
         * Finds each row's first row of its sequence, and checks what V4's caches rely on: a sequence's rows are
         * consecutive and continue its cache.
         */
        void locateSequences(MicroBatch batch, int rows) {
            for (int t = 0; t < rows; t++) {
                boolean continues = t > 0 && batch.cache(t) == batch.cache(t - 1);
                sequenceStart[t] = continues ? sequenceStart[t - 1] : t;
                int expected =
                        continues ? batch.position(t - 1) + 1 : batch.cache(t).length();
                if (batch.position(t) != expected) {
                    throw new IllegalArgumentException("row " + t + " is at position " + batch.position(t)
                            + " but its sequence continues at " + expected
                            + ": a DeepSeek-V4 sequence's rows must be consecutive and follow its cache");
                }
            }
        }
    }

    /** Per-thread work space of the attention and the indexer. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

        /** Keys row-major, for the weighted sum. */
        float[] keys = new float[0];
        /** Keys in blocks of 8 positions, dimension-major, for the scores. */
        float[] blockedKeys = new float[0];

        float[] cos = new float[0];
        float[] sin = new float[0];
        private float[] indexScores = new float[0];
        private int[] heap = new int[0];

        static Scratch get() {
            return CURRENT.get();
        }

        void ensure(int count, int dims) {
            int blocks = (count + SharedKeyAttention.BLOCK - 1) / SharedKeyAttention.BLOCK;
            int size = blocks * SharedKeyAttention.BLOCK * dims;
            if (keys.length < size) {
                keys = new float[Math.max(size, 2 * keys.length)];
                blockedKeys = new float[keys.length];
            }
        }

        void put(int n, float[] src, int at, int dims) {
            System.arraycopy(src, at, keys, n * dims, dims);
            int base = (n / SharedKeyAttention.BLOCK) * dims * SharedKeyAttention.BLOCK + n % SharedKeyAttention.BLOCK;
            for (int d = 0; d < dims; d++) {
                blockedKeys[base + d * SharedKeyAttention.BLOCK] = src[at + d];
            }
        }

        /** Zeroes the positions past {@code count} in its last block, whose scores are computed but never used. */
        void padBlock(int count, int dims) {
            int end = (count + SharedKeyAttention.BLOCK - 1) / SharedKeyAttention.BLOCK * SharedKeyAttention.BLOCK;
            for (int n = count; n < end; n++) {
                int base =
                        (n / SharedKeyAttention.BLOCK) * dims * SharedKeyAttention.BLOCK + n % SharedKeyAttention.BLOCK;
                for (int d = 0; d < dims; d++) {
                    blockedKeys[base + d * SharedKeyAttention.BLOCK] = 0f;
                }
            }
        }

        void ensureRope(int pairs) {
            if (cos.length != pairs) {
                cos = new float[pairs];
                sin = new float[pairs];
            }
        }

        float[] indexScores(int n) {
            if (indexScores.length < n) {
                indexScores = new float[Math.max(n, 2 * indexScores.length)];
            }
            return indexScores;
        }

        int[] heap(int n) {
            if (heap.length < n) {
                heap = new int[n];
            }
            return heap;
        }
    }
}
