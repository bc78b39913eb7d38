package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.chat.ChatMessage;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.GenerationResult;
import io.moestream.engine.generate.LocalGenerator;
import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Model;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.sampling.SamplingParams;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.util.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code generate}: one completion of one prompt, with the engine's local generator. */
@Command(
        name = "generate",
        description = {
            "Generates a completion of one prompt and prints its text (or its ids when the model has no tokenizer) to "
                    + "standard output, with timings on standard error.",
            "Without --chat the prompt is encoded raw, with BOS prepended when tokenizer_config.json says "
                    + "add_bos_token (as transformers' tokenizer(text) does; DeepSeek-V3 says so)."
        },
        sortOptions = false)
final class GenerateCommand implements Callable<Integer> {
    /** Prompt rows per forward pass; longer prompts are prefilled in chunks of this size. */
    static final int PREFILL_CHUNK_ROWS = 256;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOption model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt as text.")
        String text;

        @Option(
                names = "--prompt-ids",
                paramLabel = "ID",
                split = ",",
                description = "The prompt as token ids, used as given (no tokenizer needed, no BOS added).")
        int[] ids;
    }

    @Option(
            names = "--chat",
            description = "Wrap --prompt as one user message in the model's chat template, with the generation "
                    + "prompt (the template writes the BOS).")
    private boolean chat;

    @Option(
            names = "--max-tokens",
            paramLabel = "N",
            defaultValue = "64",
            description = "Most tokens to generate; 0 generates nothing (default: ${DEFAULT-VALUE}).")
    private int maxTokens;

    @Option(
            names = "--temperature",
            paramLabel = "T",
            defaultValue = "0",
            description = "Softmax temperature; 0 is greedy, the argmax (default: ${DEFAULT-VALUE}).")
    private double temperature;

    @Option(
            names = "--top-p",
            paramLabel = "P",
            defaultValue = "1",
            description = "Nucleus sampling, in (0, 1] (default: ${DEFAULT-VALUE}, no cut).")
    private double topP;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            defaultValue = "0",
            description = "Keep the K most likely tokens; 0 for no limit (default: ${DEFAULT-VALUE}).")
    private int topK;

    @Option(
            names = "--seed",
            paramLabel = "S",
            defaultValue = "0",
            description = "Seed of the sampling draws (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(
            names = "--stop",
            paramLabel = "STR",
            description = "End generation at this string, cut from the text; repeatable. Needs the tokenizer.")
    private List<String> stop = new ArrayList<>();

    @Option(
            names = "--logits-out",
            paramLabel = "FILE.npy",
            description = "Also write the logits of every prompt position, from one forward pass over the prompt, "
                    + "as a float32 .npy of shape [prompt_length, vocab_size].")
    private Path logitsOut;

    @Option(
            names = "--json",
            description = "Print one JSON object {\"ids\": [...], \"text\": \"...\", \"finish_reason\": "
                    + "\"stop\"|\"length\"} instead of the text; ids include the end-of-sequence token that ended it.")
    private boolean json;

    @Mixin
    private ThreadsOption threads;

    @Override
    public Integer call() throws IOException {
        SamplingParams params = samplingParams();
        ModelDirectory dir = model.open();
        Tokenizer tokenizer = needsTokenizer()
                ? requireTokenizer(dir)
                : dir.optionalTokenizer().orElse(null);
        int[] promptIds = encodePrompt(dir, dir.config().vocabSize());
        Model weights = load(dir);
        try (Parallel parallel = threads.create()) {
            if (logitsOut != null) {
                writePromptLogits(weights, promptIds, parallel, logitsOut);
            }
            LocalGenerator generator =
                    new LocalGenerator(weights, tokenizer, dir.eosTokenIds(), PREFILL_CHUNK_ROWS, 1, parallel);
            long start = System.nanoTime();
            GenerationResult result = generator
                    .generate(List.of(new GenerationRequest("generate", promptIds, params)))
                    .get(0);
            print(result, tokenizer != null, seconds(start));
        }
        return 0;
    }

    private Model load(ModelDirectory dir) throws IOException {
        long start = System.nanoTime();
        Model weights = Model.load(dir.path());
        if (!json) {
            spec.commandLine()
                    .getErr()
                    .printf(
                            Locale.ROOT,
                            "loaded %s (%.1f MB of weights) in %.2f s%n",
                            dir.path(),
                            weights.bytes() / 1e6,
                            seconds(start));
        }
        return weights;
    }

    private SamplingParams samplingParams() {
        if (chat && prompt.ids != null) {
            throw usageError("--chat applies to --prompt, not to --prompt-ids");
        }
        try {
            return new SamplingParams(temperature, topP, topK, seed, maxTokens, stop);
        } catch (IllegalArgumentException e) {
            throw usageError("invalid sampling options: " + e.getMessage());
        }
    }

    private boolean needsTokenizer() {
        return prompt.text != null || !stop.isEmpty();
    }

    private Tokenizer requireTokenizer(ModelDirectory dir) throws IOException {
        if (!dir.hasTokenizer()) {
            String needs = prompt.text != null ? "a text prompt needs it (or pass --prompt-ids)" : "--stop needs it";
            throw new IOException("model directory " + dir.path() + " has no " + Tokenizer.FILE_NAME + ": " + needs);
        }
        return dir.tokenizer();
    }

    private int[] encodePrompt(ModelDirectory dir, int vocabSize) throws IOException {
        if (prompt.ids != null) {
            if (prompt.ids.length == 0) {
                throw usageError("--prompt-ids needs at least one id");
            }
            for (int id : prompt.ids) {
                if (id < 0 || id >= vocabSize) {
                    throw usageError(
                            "--prompt-ids: id " + id + " is outside the model's vocabulary [0, " + vocabSize + ")");
                }
            }
            return prompt.ids;
        }
        return chat ? dir.encodeChat(List.of(new ChatMessage("user", prompt.text))) : dir.encodeText(prompt.text);
    }

    /** One forward pass over the whole prompt with logits at every position, saved as {@code [length, vocab]}. */
    private static void writePromptLogits(Model model, int[] promptIds, Parallel parallel, Path file)
            throws IOException {
        int vocab = model.config().vocabSize();
        ForwardPass pass = new ForwardPass(model.dense(), promptIds.length, parallel);
        MicroBatch batch = new MicroBatch(promptIds.length);
        SequenceCache cache = model.newCache(promptIds.length);
        for (int position = 0; position < promptIds.length; position++) {
            batch.add(promptIds[position], position, cache, true);
        }
        pass.run(batch, model);
        float[] logits = new float[promptIds.length * vocab];
        pass.logits(logits);
        Npy.writeFloat32(file, logits, promptIds.length, vocab);
    }

    /** The result on standard output; without --json, the timing on standard error. */
    private void print(GenerationResult result, boolean hasText, double seconds) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode node = JSON.createObjectNode();
            Arrays.stream(result.ids()).forEach(node.putArray("ids")::add);
            node.put("text", result.text());
            node.put("finish_reason", result.finishReason().wireName());
            out.println(JSON.writeValueAsString(node));
            out.flush();
            return;
        }
        out.println(
                hasText
                        ? result.text()
                        : Arrays.stream(result.ids())
                                .mapToObj(Integer::toString)
                                .collect(Collectors.joining(",")));
        out.flush();
        spec.commandLine()
                .getErr()
                .printf(
                        Locale.ROOT,
                        "%d prompt tokens, %d generated in %.2f s (%.1f tok/s), finish_reason %s%n",
                        result.promptTokens(),
                        result.ids().length,
                        seconds,
                        result.ids().length / seconds,
                        result.finishReason().wireName());
    }

    private ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
