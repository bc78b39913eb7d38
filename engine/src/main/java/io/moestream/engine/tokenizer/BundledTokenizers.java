package io.moestream.engine.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Tokenizer files shipped on the classpath: DeepSeek-V3's published {@code tokenizer.json} and
 * {@code tokenizer_config.json}, unchanged, for synthetic models and tests.
 */
public final class BundledTokenizers {
    private static final String DEEPSEEK_V3 = "deepseek_v3/";

    private BundledTokenizers() {}

    /** Writes DeepSeek-V3's tokenizer.json and tokenizer_config.json into {@code dir} (created if needed). */
    public static void copyDeepSeekV3To(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String file : new String[] {Tokenizer.FILE_NAME, TokenizerConfig.FILE_NAME}) {
            try (InputStream in = open(DEEPSEEK_V3 + file)) {
                Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Reads DeepSeek-V3's tokenizer from the classpath (about a quarter of a second: keep the instance). */
    public static Tokenizer deepSeekV3() throws IOException {
        try (InputStream tokenizer = open(DEEPSEEK_V3 + Tokenizer.FILE_NAME);
                InputStream config = open(DEEPSEEK_V3 + TokenizerConfig.FILE_NAME)) {
            return Tokenizer.fromJson(tokenizer, config);
        }
    }

    private static InputStream open(String resource) throws IOException {
        InputStream in = BundledTokenizers.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IOException(
                    "missing classpath resource " + BundledTokenizers.class.getPackageName() + "/" + resource);
        }
        return in;
    }
}
