package io.moestream.engine.sampling;

import java.util.List;

/**
 * How a request wants its tokens chosen, with OpenAI-style meanings.
 *
 * @param temperature 0 for greedy (argmax), else the softmax temperature
 * @param topP nucleus sampling: keep the smallest set of most likely tokens whose probability reaches this, in (0, 1]
 * @param topK keep only the k most likely tokens; 0 for no limit
 * @param seed the request's random stream (with the step number it decides each draw)
 * @param maxTokens the most tokens to generate; 0 generates nothing
 * @param stop strings that end generation; the text is cut before the first one that appears
 */
public record SamplingParams(double temperature, double topP, int topK, long seed, int maxTokens, List<String> stop) {

    public SamplingParams {
        stop = List.copyOf(stop);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max_tokens must be >= 0, got " + maxTokens);
        }
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 1, 0, 0, maxTokens, List.of());
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
