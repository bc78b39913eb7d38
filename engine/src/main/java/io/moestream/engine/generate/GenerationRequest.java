package io.moestream.engine.generate;

import io.moestream.engine.sampling.SamplingParams;

/**
 * One sequence to generate.
 *
 * @param id the request id
 * @param promptIds the prompt, already tokenized (chat template applied if wanted)
 * @param params how to choose tokens and when to stop
 */
public record GenerationRequest(String id, int[] promptIds, SamplingParams params) {}
