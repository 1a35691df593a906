using System;
using System.IO;
using System.Linq;
using System.Threading;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class ReadAheadStreamTests
{
    // A source that answers each read with at most a few bytes, as seq_file does with one page,
    // and can fail after a given number of bytes.
    private sealed class TrickleStream : Stream
    {
        private readonly byte[] _data;
        private readonly int _most;
        private readonly long _failAt;
        private int _position;

        public TrickleStream(byte[] data, int most, long failAt = long.MaxValue)
        {
            _data = data;
            _most = most;
            _failAt = failAt;
        }

        public bool Disposed { get; private set; }
        public int Reads;

        public override int Read(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref Reads);
            if (_position >= _failAt)
            {
                throw new IOException("No such process");
            }

            int n = (int)Math.Min(Math.Min(count, _most), Math.Min(_data.Length - _position, _failAt - _position));
            Array.Copy(_data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[] Data(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + i / 251)).ToArray();

    private static byte[] ReadAll(Stream stream, int chunk)
    {
        var output = new MemoryStream();
        var buffer = new byte[chunk];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 100)]
    [InlineData(1000, 7)]
    [InlineData(1024, 4096)]
    [InlineData(1025, 3)]
    [InlineData(200_000, 4096)]
    [InlineData(200_000, 65536)]
    public void HandsOutTheSourceBytesInOrder(int length, int chunk)
    {
        byte[] data = Data(length);
        using var stream = new ReadAheadStream(new TrickleStream(data, 4000), blockSize: 1024, blocksAhead: 2);
        Assert.Equal(data, ReadAll(stream, chunk));
        Assert.Equal(0, stream.Read(new byte[10], 0, 10));
    }

    [Fact]
    public void ASourceThatFitsOneBlockStartsNoThread()
    {
        using var stream = new ReadAheadStream(new TrickleStream(Data(1000), 100), blockSize: 1024);
        Assert.Equal(1000, ReadAll(stream, 4096).Length);
        Assert.False(stream.StartedReader);
    }

    [Fact]
    public void ALongerSourceIsReadOnAThreadOfItsOwn()
    {
        using var stream = new ReadAheadStream(new TrickleStream(Data(100_000), 100), blockSize: 1024);
        Assert.Equal(100_000, ReadAll(stream, 4096).Length);
        Assert.True(stream.StartedReader);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(1024)]
    [InlineData(5000)]
    public void AnErrorOfTheSourceComesAfterTheBytesReadBeforeIt(int failAt)
    {
        byte[] data = Data(10_000);
        using var stream = new ReadAheadStream(new TrickleStream(data, 300, failAt), blockSize: 1024, blocksAhead: 2);
        var output = new MemoryStream();
        var buffer = new byte[777];
        var e = Assert.Throws<IOException>(() =>
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        });
        Assert.Equal("No such process", e.Message);
        Assert.Equal(data.Take(failAt), output.ToArray());
    }

    [Fact]
    public void DisposingPartWayStopsTheReaderAndClosesTheSource()
    {
        var source = new TrickleStream(Data(10_000_000), 4096);
        var stream = new ReadAheadStream(source, blockSize: 4096, blocksAhead: 2);
        Assert.Equal(100, stream.Read(new byte[100], 0, 100));
        Assert.Equal(100, stream.Read(new byte[100], 0, 100));
        stream.ReadExactly(new byte[5000], 0, 5000);
        stream.Dispose();
        Assert.True(source.Disposed);
        int reads = source.Reads;
        Thread.Sleep(50);
        // The reader stopped: a bounded queue of two blocks, not the whole 10 MB.
        Assert.Equal(reads, source.Reads);
        Assert.True(reads < 20, $"{reads} reads");
        Assert.Throws<ObjectDisposedException>(() => stream.Read(new byte[1], 0, 1));
    }
}
