package io.moestream.operators.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.SplittableRandom;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bundles and results cross the wire bit for bit (NaN payloads and signed zeros included), in bulk. */
class ExpertSerializersTest {
    private static float[] floats(int n) {
        SplittableRandom random = new SplittableRandom(n);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = Float.intBitsToFloat(random.nextInt());
        }
        if (n > 2) {
            values[0] = -0.0f;
            values[1] = Float.intBitsToFloat(0x7fc00123); // a NaN with a payload
        }
        return values;
    }

    private static <T> T roundTrip(TypeSerializer<T> serializer, T record) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(record, out);
        serializer.serialize(record, out);
        // copy(DataInputView, DataOutputView) re-encodes the same bytes
        DataOutputSerializer copied = new DataOutputSerializer(64);
        serializer.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        DataInputDeserializer in = new DataInputDeserializer(copied.getCopyOfBuffer());
        T result = serializer.deserialize(in);
        assertEquals(0, in.available());
        DataInputDeserializer both = new DataInputDeserializer(out.getCopyOfBuffer());
        serializer.deserialize(both);
        serializer.deserialize(serializer.createInstance(), both);
        assertEquals(0, both.available());
        return result;
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 1, 7, 1024 * 6, (1 << 14) + 3, 100_000})
    void aBundleRoundTrips(int length) throws Exception {
        TypeInformation<ExpertBundle> type = TypeInformation.of(ExpertBundle.class);
        TypeSerializer<ExpertBundle> serializer = type.createSerializer(new SerializerConfigImpl());
        assertInstanceOf(ExpertBundleSerializer.class, serializer);
        ExpertBundle bundle = new ExpertBundle();
        bundle.originSubtask = 3;
        bundle.passId = (5L << 40) + 17;
        bundle.layer = 11;
        bundle.expert = 63;
        bundle.bundleIndex = 42;
        bundle.rows = 6;
        bundle.groupSize = 9;
        bundle.input = length < 0 ? null : floats(length);
        ExpertBundle read = roundTrip(serializer, bundle);
        assertEquals(3, read.originSubtask);
        assertEquals(bundle.passId, read.passId);
        assertEquals(11, read.layer);
        assertEquals(63, read.expert);
        assertEquals(42, read.bundleIndex);
        assertEquals(6, read.rows);
        assertEquals(9, read.groupSize);
        assertBits(bundle.input, read.input);
        assertBits(bundle.input, serializer.copy(bundle).input);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 5, (1 << 14) - 1, 70_000})
    void aResultRoundTrips(int length) throws Exception {
        TypeSerializer<ExpertResult> serializer =
                TypeInformation.of(ExpertResult.class).createSerializer(new SerializerConfigImpl());
        assertInstanceOf(ExpertResultSerializer.class, serializer);
        ExpertResult result = new ExpertResult();
        result.originSubtask = 1;
        result.passId = 99;
        result.layer = 4;
        result.bundleIndex = 7;
        result.output = length < 0 ? null : floats(length);
        ExpertResult read = roundTrip(serializer, result);
        assertEquals(1, read.originSubtask);
        assertEquals(99, read.passId);
        assertEquals(4, read.layer);
        assertEquals(7, read.bundleIndex);
        assertBits(result.output, read.output);
        assertBits(result.output, serializer.copy(result).output);
    }

    private static void assertBits(float[] expected, float[] actual) {
        if (expected == null) {
            assertNull(actual);
            return;
        }
        int[] e = new int[expected.length];
        int[] a = new int[actual.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = Float.floatToRawIntBits(expected[i]);
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = Float.floatToRawIntBits(actual[i]);
        }
        assertArrayEquals(e, a);
    }
}
