package io.moestream.engine.generate;

import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Model;
import io.moestream.engine.sampling.Sampler;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Generates many sequences in one JVM with continuous batching: every step packs the decode rows of all active
 * sequences and prompt chunks of the others into one micro-batch under a token budget, runs one forward pass with
 * the experts called directly, samples, and admits waiting requests as others finish. The Flink job runs the same
 * {@link Sequence} and {@link ForwardPass} code with the experts behind {@code keyBy}.
 */
public final class LocalGenerator {
    private final Model model;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds;
    private final int tokenBudget;
    private final int maxSequences;
    private final Parallel parallel;

    /**
     * @param tokenizer null to generate ids only
     * @param eosIds ids that end a sequence (generation_config.json's {@code eos_token_id})
     * @param tokenBudget rows per micro-batch (prompt chunks are cut to fit)
     * @param maxSequences sequences active at once
     */
    public LocalGenerator(
            Model model,
            Tokenizer tokenizer,
            Set<Integer> eosIds,
            int tokenBudget,
            int maxSequences,
            Parallel parallel) {
        if (tokenBudget < 1 || maxSequences < 1) {
            throw new IllegalArgumentException("token budget and sequence cap must be positive");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = Set.copyOf(eosIds);
        this.tokenBudget = tokenBudget;
        this.maxSequences = maxSequences;
        this.parallel = parallel;
    }

    /** Generates every request; results in request order. */
    public List<GenerationResult> generate(List<GenerationRequest> requests) {
        if (requests.stream().map(GenerationRequest::id).distinct().count() != requests.size()) {
            throw new IllegalArgumentException("request ids must be unique");
        }
        int vocab = model.config().vocabSize();
        int maxPositions = model.config().maxPositionEmbeddings();
        Deque<GenerationRequest> waiting = new ArrayDeque<>(requests);
        List<Sequence> active = new ArrayList<>();
        Map<String, GenerationResult> done = new LinkedHashMap<>();
        ForwardPass pass = new ForwardPass(model.dense(), tokenBudget, parallel);
        MicroBatch batch = new MicroBatch(tokenBudget);
        Sampler sampler = new Sampler();
        float[] logits = new float[Math.min(tokenBudget, maxSequences) * vocab];
        List<Sequence> inBatch = new ArrayList<>();

        while (!waiting.isEmpty() || !active.isEmpty()) {
            while (active.size() < maxSequences && !waiting.isEmpty()) {
                GenerationRequest r = waiting.poll();
                Sequence s = new Sequence(
                        r.id(),
                        r.promptIds(),
                        new int[0],
                        r.params(),
                        eosIds,
                        model.newCache(r.promptIds().length + 16),
                        tokenizer,
                        maxPositions);
                if (s.finished()) {
                    done.put(s.id(), s.result());
                } else {
                    active.add(s);
                }
            }
            if (active.isEmpty()) {
                continue;
            }
            // Decode rows first (one each, latency-bound), then prompt chunks fill the rest of the budget.
            batch.clear();
            inBatch.clear();
            for (Sequence s : active) {
                if (s.pendingTokens() == 1 && batch.rows() < tokenBudget) {
                    s.addRows(batch, 1);
                    inBatch.add(s);
                }
            }
            for (Sequence s : active) {
                if (s.pendingTokens() > 1 && batch.rows() < tokenBudget) {
                    s.addRows(batch, tokenBudget - batch.rows());
                    inBatch.add(s);
                }
            }
            pass.run(batch, model);
            pass.logits(logits);
            int logitRow = 0;
            for (Sequence s : inBatch) {
                boolean sampled = s.awaitsLogits();
                s.accept(logits, logitRow * vocab, vocab, sampler);
                if (sampled) {
                    logitRow++;
                }
            }
            for (var it = active.iterator(); it.hasNext(); ) {
                Sequence s = it.next();
                if (s.finished()) {
                    done.put(s.id(), s.result());
                    it.remove();
                }
            }
        }
        List<GenerationResult> results = new ArrayList<>(requests.size());
        for (GenerationRequest r : requests) {
            results.add(done.get(r.id()));
        }
        return results;
    }
}
