package io.moestream.engine.model;

/**
 * The dense parts of one decoder layer, those the Scheduler holds: norms, attention, and either the dense MLP or the
 * router plus shared experts. Routed experts live elsewhere ({@link ExpertProvider}).
 */
record DecoderLayer(
        float[] inputNorm,
        float[] postAttentionNorm,
        MlaAttention attention,
        FeedForward denseMlp,
        Router router,
        FeedForward sharedExperts) {

    boolean isMoe() {
        return router != null;
    }

    long bytes() {
        long total = 4L * (inputNorm.length + postAttentionNorm.length) + attention.bytes();
        if (denseMlp != null) {
            total += denseMlp.bytes();
        }
        if (sharedExperts != null) {
            total += sharedExperts.bytes();
        }
        return total;
    }
}
