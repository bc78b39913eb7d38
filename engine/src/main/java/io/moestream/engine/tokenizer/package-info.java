/**
 * Hugging Face {@code tokenizers}-exact byte-level BPE tokenization in pure Java: {@link
 * io.moestream.engine.tokenizer.Tokenizer} reads a model's {@code tokenizer.json}, {@link
 * io.moestream.engine.tokenizer.StreamingDecoder} turns generated ids into text one token at a time.
 */
package io.moestream.engine.tokenizer;
