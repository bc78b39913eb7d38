package io.moestream.engine.model;

/**
 * The dense parts of one decoder layer, those the Scheduler holds: norms, attention, and either the dense MLP or the
 * router plus shared experts. Routed experts live elsewhere ({@link ExpertProvider}).
 *
 * @param inputNorm RMSNorm weight before the attention block
 * @param postAttentionNorm RMSNorm weight before the feed-forward block
 * @param denseMlp the MLP of a dense layer, null in a MoE layer
 * @param router the router of a MoE layer, null in a dense layer
 * @param sharedExperts the shared experts of a MoE layer (null if it has none)
 */
public record DecoderLayer(
        float[] inputNorm,
        float[] postAttentionNorm,
        Attention attention,
        FeedForward denseMlp,
        Router router,
        FeedForward sharedExperts) {

    public boolean isMoe() {
        return router != null;
    }

    long bytes() {
        long total = 4L * (inputNorm.length + postAttentionNorm.length) + attention.bytes();
        if (denseMlp != null) {
            total += denseMlp.bytes();
        }
        if (router != null) {
            total += router.bytes();
        }
        if (sharedExperts != null) {
            total += sharedExperts.bytes();
        }
        return total;
    }
}
