/** The MoEStream inference engine: everything needed to run a DeepSeek-style MoE model, without Flink. */
package io.moestream.engine;
