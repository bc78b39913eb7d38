package io.moestream.engine.model;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.Residual.Site;
import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Parallel;

/**
 * The layer-stepped forward API (DESIGN.md section 2), the seam between the engine and whoever runs the experts.
 * One instance per micro-batch in flight; it owns that micro-batch's buffers. A pass goes:
 *
 * <pre>
 *   begin(batch)                                   embed
 *   while (!atEnd()):
 *     attention()                                  block input (norm), attention over the cache, residual
 *     if (!isMoeLayer()) denseMlp()                block input (norm), MLP, residual, next layer
 *     else { plan = routeOnly();                   block input (norm), router; bundles per expert
 *            ...experts fill plan.output()...      locally, or through keyBy(layer, expert)
 *            sharedExperts();                      the shared experts (in the job while the bundles are out)
 *            combine(); }                          weighted sum in rank order + shared, residual, next layer
 *   logits(out)                                    final norm, LM head for the rows that asked
 * </pre>
 *
 * The families differ in their {@link Attention} (MLA, V4's windowed and compressed attention), their {@link
 * Residual} (a plain sum, V4's hyper-connections) and their {@link Router}; the steps are the same. The local generator
 * and the Flink job call exactly these methods, so both give the same numbers.
 */
public final class ForwardPass {
    private final DenseModel model;
    private final ModelConfig config;
    private final Parallel parallel;
    private final Workspace ws;
    private final DispatchPlan plan;
    private final float[] sharedOut;
    private MicroBatch batch;
    private int layer;

    public ForwardPass(DenseModel model, int capacity, Parallel parallel) {
        this.model = model;
        this.config = model.config();
        this.parallel = parallel;
        this.ws = new Workspace(model, capacity);
        int topK = Math.max(1, config.router().topK());
        this.plan = new DispatchPlan(capacity, topK, config.numRoutedExperts(), config.hiddenSize());
        this.sharedOut = new float[capacity * config.hiddenSize()];
    }

    public ModelConfig config() {
        return config;
    }

    /** Rows this pass can hold. */
    public int capacity() {
        return ws.capacity;
    }

    /** Starts a pass over {@code batch}: looks up the embeddings. */
    public void begin(MicroBatch batch) {
        if (batch.rows() > ws.capacity) {
            throw new IllegalArgumentException(
                    "micro-batch of " + batch.rows() + " rows exceeds capacity " + ws.capacity);
        }
        for (int t = 0; t < batch.rows(); t++) {
            int token = batch.token(t);
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException(
                        "token id " + token + " outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        this.batch = batch;
        this.layer = 0;
        for (int t = 0; t < batch.rows(); t++) {
            ws.streams.embed(t, model.embedding(), batch.token(t));
        }
    }

    public int layer() {
        return layer;
    }

    public boolean atEnd() {
        return layer == config.numLayers();
    }

    public boolean isMoeLayer() {
        return model.layer(layer).isMoe();
    }

    /** {@code hidden += attention(input_layernorm(hidden))} for the current layer (through V4's streams there). */
    public void attention() {
        DecoderLayer l = model.layer(layer);
        ws.streams.blockInput(
                layer, Site.ATTENTION, batch.rows(), l.inputNorm(), config.rmsNormEps(), ws.xNorm, parallel);
        l.attention().forward(layer, ws.xNorm, batch, ws.blockOut, ws.attention, parallel);
        ws.streams.blockOutput(layer, Site.ATTENTION, batch.rows(), ws.blockOut);
    }

    /** {@code hidden += mlp(post_attention_layernorm(hidden))}; moves to the next layer. */
    public void denseMlp() {
        DecoderLayer l = model.layer(layer);
        feedForwardInput(l);
        ws.ffn.forward(l.denseMlp(), ws.xNorm, 0, batch.rows(), ws.blockOut, 0, parallel);
        ws.streams.blockOutput(layer, Site.FEED_FORWARD, batch.rows(), ws.blockOut);
        nextLayer();
    }

    private void feedForwardInput(DecoderLayer l) {
        ws.streams.blockInput(
                layer, Site.FEED_FORWARD, batch.rows(), l.postAttentionNorm(), config.rmsNormEps(), ws.xNorm, parallel);
    }

    /**
     * Normalises, routes and builds the plan of the current MoE layer; the routed experts must compute its bundles
     * into {@link DispatchPlan#output()}, and {@link #sharedExperts} must run, before {@link #combine()}. A caller
     * that sends the bundles away computes the shared experts while they are out.
     */
    public DispatchPlan routeOnly() {
        DecoderLayer l = model.layer(layer);
        feedForwardInput(l);
        int rows = batch.rows();
        l.router().route(ws.xNorm, batch, rows, ws.routerLogits, ws.expertIds, ws.expertWeights, parallel);
        plan.build(layer, rows, ws.expertIds, ws.xNorm, config.numRoutedExperts());
        return plan;
    }

    /** The shared experts of the current MoE layer, after {@link #routeOnly} and before {@link #combine}. */
    public void sharedExperts() {
        ws.ffn.clear();
        addSharedExperts();
        ws.ffn.run(parallel);
    }

    private void addSharedExperts() {
        FeedForward shared = model.layer(layer).sharedExperts();
        if (shared != null) {
            ws.ffn.add(shared, ws.xNorm, 0, batch.rows(), sharedOut, 0);
        }
    }

    /** The plan of the current MoE layer, as {@link #routeOnly()} returned it. */
    public DispatchPlan plan() {
        return plan;
    }

    /**
     * {@code hidden += sum_k w_k * expert_k(x) + shared(x)}, the routed outputs added in rank order; moves to the next
     * layer.
     */
    public void combine() {
        DecoderLayer l = model.layer(layer);
        int h = config.hiddenSize();
        int topK = config.router().topK();
        float[] out = plan.output();
        float[] moe = ws.blockOut;
        for (int t = 0; t < batch.rows(); t++) {
            java.util.Arrays.fill(moe, t * h, (t + 1) * h, 0f);
            for (int k = 0; k < topK; k++) {
                Kernels.axpy(ws.expertWeights[t * topK + k], out, plan.choiceSlot(t, k) * h, moe, t * h, h);
            }
            if (l.sharedExperts() != null) {
                Kernels.add(sharedOut, t * h, moe, t * h, h);
            }
        }
        ws.streams.blockOutput(layer, Site.FEED_FORWARD, batch.rows(), moe);
        nextLayer();
    }

    /** Runs the whole pass, computing routed experts here. */
    public void run(MicroBatch microBatch, ExpertProvider experts) {
        begin(microBatch);
        while (!atEnd()) {
            attention();
            if (isMoeLayer()) {
                // Shared and routed experts together: two parallel regions for the whole layer.
                routeOnly();
                ws.ffn.clear();
                plan.addBundles(experts, ws.ffn);
                addSharedExperts();
                ws.ffn.run(parallel);
                combine();
            } else {
                denseMlp();
            }
        }
    }

    /**
     * Final norm and LM head for the rows that asked for logits, in row order: {@code out[i * vocab ..]} for the
     * {@code i}-th such row. Returns how many rows were written.
     */
    public int logits(float[] out) {
        if (!atEnd()) {
            throw new IllegalStateException("logits before the last layer (at layer " + layer + ")");
        }
        int h = config.hiddenSize();
        int n = 0;
        for (int t = 0; t < batch.rows(); t++) {
            if (batch.wantsLogits(t)) {
                ws.streams.headInput(t, model.finalNorm(), config.rmsNormEps(), ws.xNorm, n * h);
                n++;
            }
        }
        model.lmHead().forward(ws.xNorm, 0, h, n, out, 0, config.vocabSize(), parallel);
        return n;
    }

    private void nextLayer() {
        layer++;
        if (atEnd()) {
            for (int t = 0; t < batch.rows(); t++) {
                SequenceCache cache = batch.cache(t);
                cache.setLength(Math.max(cache.length(), batch.position(t) + 1));
            }
        }
    }
}
