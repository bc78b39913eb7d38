package io.moestream.engine.model.v4;

import io.moestream.engine.model.RotaryEmbedding;
import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;

/**
 * The Lightning Indexer of a CSA layer (transformers' {@code DeepseekV4Indexer}): its own compressor makes one key of
 * width {@code Di} per window of {@code m} tokens; a query scores every visible key as {@code sum_h relu(q_h . k) *
 * Di^-0.5 * w_h}, with {@code Hi} query heads from the query's LoRA residual and per-head weights from the attention
 * input, and the attention then reads only the {@code index_topk} best entries.
 *
 * <p>Scores are float32 as in transformers, each a fixed-order sum; the selection breaks exact ties toward the lower
 * entry, so it is the same whatever the batch (transformers' {@code topk} leaves ties unspecified).
 */
final class Indexer {
    private final Compressor compressor;
    private final Linear queryProjection;
    private final Linear weightsProjection;
    private final int heads;
    private final int headDim;
    private final int topK;
    private final RotaryEmbedding rope;
    private final float scoreScale;
    private final float weightScale;

    /**
     * @param compressor the indexer's own compressor, of width {@code index_head_dim}
     * @param queryProjection {@code wq_b}: {@code [heads * headDim, q_lora_rank]}
     * @param weightsProjection {@code weights_proj}: {@code [heads, hidden]}
     * @param rope the compress table (queries at their token positions)
     */
    Indexer(Compressor compressor, Linear queryProjection, Linear weightsProjection, int topK, RotaryEmbedding rope) {
        this.compressor = compressor;
        this.queryProjection = queryProjection;
        this.weightsProjection = weightsProjection;
        this.heads = weightsProjection.outFeatures();
        this.headDim = compressor.entryWidth();
        this.topK = topK;
        this.rope = rope;
        this.scoreScale = (float) Math.pow(headDim, -0.5);
        this.weightScale = (float) Math.pow(heads, -0.5);
        if (queryProjection.outFeatures() != heads * headDim) {
            throw new IllegalArgumentException("indexer query projection has " + queryProjection.outFeatures()
                    + " outputs, expected " + heads + " x " + headDim);
        }
    }

    Compressor compressor() {
        return compressor;
    }

    Linear queryProjection() {
        return queryProjection;
    }

    Linear weightsProjection() {
        return weightsProjection;
    }

    int heads() {
        return heads;
    }

    int headDim() {
        return headDim;
    }

    int topK() {
        return topK;
    }

    long bytes() {
        return compressor.bytes() + queryProjection.bytes() + weightsProjection.bytes();
    }

    /**
     * Ropes a row's query heads ({@code q[qOff ..]}, {@code heads x headDim}) at {@code position} and scales its head
     * weights ({@code w[wOff ..]}) by {@code heads^-0.5}, in place.
     */
    void prepareQuery(float[] q, int qOff, float[] w, int wOff, int position, float[] cos, float[] sin) {
        rope.cosSin(position, cos, sin);
        for (int h = 0; h < heads; h++) {
            rope.rotate(q, qOff + h * headDim + headDim - rope.dim(), cos, sin);
        }
        for (int h = 0; h < heads; h++) {
            w[wOff + h] *= weightScale;
        }
    }

    /**
     * The entries a query attends to among the first {@code visible} of {@code keys}: all when there are at most
     * {@code index_topk}, else the best {@code index_topk} by score. Writes them in ascending order to {@code
     * selected[selOff ..]} and returns how many.
     */
    int select(
            float[] q,
            int qOff,
            float[] w,
            int wOff,
            Compressor.State keys,
            int visible,
            float[] scores,
            int[] heap,
            int[] selected,
            int selOff) {
        if (visible <= topK) {
            for (int s = 0; s < visible; s++) {
                selected[selOff + s] = s;
            }
            return visible;
        }
        float[] entries = keys.entries();
        for (int s = 0; s < visible; s++) {
            float score = 0;
            for (int h = 0; h < heads; h++) {
                float dot = Kernels.dot(q, qOff + h * headDim, entries, s * headDim, headDim);
                score += Math.max(dot, 0f) * scoreScale * w[wOff + h];
            }
            scores[s] = score;
        }
        // A min-heap of the best topK so far; its root is the worst kept (lowest score, then highest index).
        int size = 0;
        for (int s = 0; s < visible; s++) {
            if (size < topK) {
                heap[size] = s;
                siftUp(heap, size++, scores);
            } else if (better(s, heap[0], scores)) {
                heap[0] = s;
                siftDown(heap, size, scores);
            }
        }
        System.arraycopy(heap, 0, selected, selOff, topK);
        java.util.Arrays.sort(selected, selOff, selOff + topK);
        return topK;
    }

    /** Whether entry {@code a} ranks above {@code b}: higher score, ties to the lower index. */
    private static boolean better(int a, int b, float[] scores) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    }

    private static void siftUp(int[] heap, int at, float[] scores) {
        while (at > 0) {
            int parent = (at - 1) / 2;
            if (!better(heap[parent], heap[at], scores)) {
                return;
            }
            int swap = heap[parent];
            heap[parent] = heap[at];
            heap[at] = swap;
            at = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] scores) {
        int at = 0;
        while (true) {
            int worst = at;
            int left = 2 * at + 1;
            int right = left + 1;
            if (left < size && better(heap[worst], heap[left], scores)) {
                worst = left;
            }
            if (right < size && better(heap[worst], heap[right], scores)) {
                worst = right;
            }
            if (worst == at) {
                return;
            }
            int swap = heap[worst];
            heap[worst] = heap[at];
            heap[at] = swap;
            at = worst;
        }
    }
}
