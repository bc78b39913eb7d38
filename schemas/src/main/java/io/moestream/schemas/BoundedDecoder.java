package io.moestream.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro's binary decoder, except that a string, bytes or collection length larger than the whole record value is
 * refused before anything is allocated for it. Avro allocates for a length before it reads the bytes, so one corrupt
 * length in an untrusted record would allocate gigabytes and take the TaskManager down, again on every retry. No
 * honest record has more items than bytes: every item type of our schemas takes at least one byte.
 */
final class BoundedDecoder extends Decoder {
    private final BinaryDecoder in;
    private final long valueLength;

    BoundedDecoder(BinaryDecoder in, long valueLength) {
        this.in = in;
        this.valueLength = valueLength;
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        return new Utf8(readLengthPrefixed());
    }

    @Override
    public String readString() throws IOException {
        return new String(readLengthPrefixed(), StandardCharsets.UTF_8);
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        return ByteBuffer.wrap(readLengthPrefixed());
    }

    private byte[] readLengthPrefixed() throws IOException {
        byte[] bytes = new byte[(int) checked(in.readLong(), "length")];
        in.readFixed(bytes);
        return bytes;
    }

    @Override
    public long readArrayStart() throws IOException {
        return checked(in.readArrayStart(), "item count");
    }

    @Override
    public long arrayNext() throws IOException {
        return checked(in.arrayNext(), "item count");
    }

    @Override
    public long readMapStart() throws IOException {
        return checked(in.readMapStart(), "entry count");
    }

    @Override
    public long mapNext() throws IOException {
        return checked(in.mapNext(), "entry count");
    }

    private long checked(long length, String what) throws IOException {
        if (length < 0 || length > valueLength) {
            throw new IOException("impossible " + what + " " + length + " in a record of " + valueLength + " bytes");
        }
        return length;
    }

    // Everything else allocates nothing that the value's length does not bound: Avro's decoder as it is.

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public void skipString() throws IOException {
        in.skipString();
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipBytes();
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long skipArray() throws IOException {
        return in.skipArray();
    }

    @Override
    public long skipMap() throws IOException {
        return in.skipMap();
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
