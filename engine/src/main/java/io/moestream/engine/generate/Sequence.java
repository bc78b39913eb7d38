package io.moestream.engine.generate;

import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.sampling.Sampler;
import io.moestream.engine.sampling.SamplingParams;
import io.moestream.engine.tokenizer.StreamingDecoder;
import io.moestream.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Set;

/**
 * The state machine of one sequence under continuous batching: what it still has to feed (prompt chunks, then one
 * token per decode step), what it generated, and whether it must stop. It can be rebuilt from prompt and generated
 * ids alone (a restore: everything is fed again as prefill, and sampling goes on at the same step), which is all the
 * Flink job checkpoints.
 */
public final class Sequence {
    private final String id;
    private final int[] prompt;
    private final SamplingParams params;
    private final Set<Integer> eosIds;
    private final int maxPositions;
    private final SequenceCache cache;
    private final StreamingDecoder decoder;

    private int[] generated;
    private int generatedCount;
    /** Tokens (prompt + generated) already in the KV cache. */
    private int cached;
    /** Tokens added to the micro-batch in flight and not yet confirmed by {@link #accept}. */
    private int inFlight;

    private final StringBuilder text = new StringBuilder();
    private FinishReason finishReason;

    /**
     * @param generatedSoFar ids generated before a restore (empty for a new request)
     * @param tokenizer for stop strings and text; null when only ids are wanted (then {@code stop} must be empty)
     * @param maxPositions the model's context length: generation stops with {@code length} when it is full
     */
    public Sequence(
            String id,
            int[] prompt,
            int[] generatedSoFar,
            SamplingParams params,
            Set<Integer> eosIds,
            SequenceCache cache,
            Tokenizer tokenizer,
            int maxPositions) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("request " + id + ": empty prompt");
        }
        if (prompt.length >= maxPositions) {
            throw new IllegalArgumentException("request " + id + ": prompt of " + prompt.length
                    + " tokens does not fit the model's context of " + maxPositions);
        }
        if (tokenizer == null && !params.stop().isEmpty()) {
            throw new IllegalArgumentException("request " + id + ": stop strings need a tokenizer");
        }
        this.id = id;
        this.prompt = prompt.clone();
        this.params = params;
        this.eosIds = Set.copyOf(eosIds);
        this.maxPositions = maxPositions;
        this.cache = cache;
        // Completion text leaves special tokens out, as OpenAI-style servers do by default.
        this.decoder = tokenizer == null ? null : tokenizer.newStreamingDecoder(true);
        this.generated = new int[Math.max(4, Math.min(params.maxTokens(), 1024))];
        cache.reset();
        if (params.maxTokens() == 0) {
            finishReason = FinishReason.LENGTH;
        }
        for (int token : generatedSoFar) {
            record(token);
        }
    }

    public String id() {
        return id;
    }

    public boolean finished() {
        return finishReason != null;
    }

    public FinishReason finishReason() {
        return finishReason;
    }

    public SequenceCache cache() {
        return cache;
    }

    public int generatedCount() {
        return generatedCount;
    }

    public int[] generatedIds() {
        return Arrays.copyOf(generated, generatedCount);
    }

    /** Tokens still to feed before the next token can be sampled: the rest of the prompt, or 1 when decoding. */
    public int pendingTokens() {
        return prompt.length + generatedCount - cached - inFlight;
    }

    /**
     * Adds up to {@code maxRows} of its pending tokens to {@code batch}; the row that completes the pending input asks
     * for logits. Returns the rows added.
     */
    public int addRows(MicroBatch batch, int maxRows) {
        int rows = Math.min(maxRows, pendingTokens());
        int total = prompt.length + generatedCount;
        for (int i = 0; i < rows; i++) {
            int pos = cached + inFlight;
            int token = pos < prompt.length ? prompt[pos] : generated[pos - prompt.length];
            inFlight++;
            batch.add(token, pos, cache, pos == total - 1);
        }
        return rows;
    }

    /** Confirms the rows in flight after their forward pass, and samples when they completed the input. */
    public void accept(float[] logits, int off, int vocab, Sampler sampler) {
        cached += inFlight;
        inFlight = 0;
        if (cached < prompt.length + generatedCount || finished()) {
            return;
        }
        int token = sampler.sample(logits, off, vocab, params, generatedCount);
        record(token);
    }

    /** Whether the last row this sequence added will carry logits (it completes the input). */
    public boolean awaitsLogits() {
        return inFlight > 0 && cached + inFlight == prompt.length + generatedCount;
    }

    private void record(int token) {
        if (generatedCount == generated.length) {
            generated = Arrays.copyOf(generated, generated.length * 2);
        }
        generated[generatedCount++] = token;
        if (eosIds.contains(token)) {
            finishReason = FinishReason.STOP;
            return;
        }
        if (decoder != null) {
            int before = text.length();
            text.append(decoder.push(token));
            if (findStop(before)) {
                return;
            }
        }
        if (generatedCount >= params.maxTokens() || prompt.length + generatedCount >= maxPositions) {
            finishReason = FinishReason.LENGTH;
        }
    }

    /** Looks for a stop string that ends in the text appended since {@code before}; cuts the text at it. */
    private boolean findStop(int before) {
        int earliest = -1;
        for (String stop : params.stop()) {
            int from = Math.max(0, before - stop.length() + 1);
            int at = text.indexOf(stop, from);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest < 0) {
            return false;
        }
        text.setLength(earliest);
        finishReason = FinishReason.STOP;
        return true;
    }

    /** The result; only once finished. */
    public GenerationResult result() {
        if (!finished()) {
            throw new IllegalStateException("sequence " + id + " has not finished");
        }
        String finalText = text.toString();
        if (decoder != null && finishReason == FinishReason.LENGTH) {
            finalText += decoder.flush();
        }
        return new GenerationResult(id, generatedIds(), finalText, finishReason, prompt.length);
    }
}
