package io.moestream.engine.model;

/** Where routed experts come from when they are computed in this JVM (the local generator, the Experts operator). */
@FunctionalInterface
public interface ExpertProvider {
    FeedForward expert(int layer, int expert);
}
