using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace MadvPS.Core;

/// <summary>
/// A read-only stream that reads its source on a thread of its own, a few blocks ahead of the
/// consumer, so that the kernel's generation of a /proc file and the parsing of it run at the
/// same time on two cores.
/// </summary>
/// <remarks>
/// seq_file hands out at most its buffer (one page for smaps) per read(), and the kernel walks
/// the page tables of each VMA as it prints it, so the 44 MB smaps of a 60,000-mapping process
/// arrives in some 12,000 reads that take most of the time of reading it. The first block is read
/// on the caller's thread; only a file larger than that starts the reader thread. Bytes come out in
/// order; an exception of the source comes out after the bytes read before it, in the Read that
/// would have returned the next bytes. Dispose stops the reader thread and then closes the source.
/// </remarks>
internal sealed class ReadAheadStream : Stream
{
    public const int DefaultBlockSize = 256 * 1024;
    public const int DefaultBlocksAhead = 4;

    private readonly Stream _source;
    private readonly int _blockSize;
    private readonly BlockingCollection<Block> _full;
    private readonly ConcurrentBag<byte[]> _free = new();
    private readonly CancellationTokenSource _stop = new();
    private Thread? _reader;
    private bool _firstBlockRead;
    private Exception? _pendingError;
    private Block _current;
    private int _position;
    private bool _disposed;

    public ReadAheadStream(Stream source, int blockSize = DefaultBlockSize, int blocksAhead = DefaultBlocksAhead)
    {
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize));
        if (blocksAhead <= 0) throw new ArgumentOutOfRangeException(nameof(blocksAhead));
        _source = source;
        _blockSize = blockSize;
        _full = new BlockingCollection<Block>(new ConcurrentQueue<Block>(), blocksAhead + 1);
    }

    /// <summary>Whether the reader thread was started (the source was longer than one block).</summary>
    internal bool StartedReader => _reader is not null;

    public override bool CanRead => !_disposed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override int Read(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.IsEmpty)
        {
            return 0;
        }

        while (_current.Buffer is null || _position == _current.Length)
        {
            if (!NextBlock())
            {
                return 0;
            }
        }

        int count = Math.Min(destination.Length, _current.Length - _position);
        _current.Buffer!.AsSpan(_position, count).CopyTo(destination);
        _position += count;
        return count;
    }

    private bool NextBlock()
    {
        if (_current.Buffer is not null)
        {
            _free.Add(_current.Buffer);
            _current = default;
            _position = 0;
        }

        if (!_firstBlockRead)
        {
            // The first block on the caller's thread: a small file never needs the thread.
            _firstBlockRead = true;
            byte[] first = new byte[_blockSize];
            int length = FillBlock(first, out bool end, out Exception? error);
            if (error is not null)
            {
                if (length == 0)
                {
                    ExceptionDispatchInfo.Throw(error);
                }

                _pendingError = error;
            }
            else if (!end)
            {
                _reader = new Thread(ReadAhead) { IsBackground = true, Name = "MadvPS read-ahead" };
                _reader.Start();
            }

            _current = new Block(first, length, null);
            return length > 0;
        }

        if (_pendingError is not null)
        {
            Exception error = _pendingError;
            _pendingError = null;
            ExceptionDispatchInfo.Throw(error);
        }

        if (_reader is null)
        {
            return false;
        }

        Block next;
        try
        {
            if (!_full.TryTake(out next, Timeout.Infinite))
            {
                return false;
            }
        }
        catch (InvalidOperationException)
        {
            // Completed and empty: the reader is done.
            return false;
        }

        if (next.Error is not null)
        {
            ExceptionDispatchInfo.Throw(next.Error);
        }

        _current = next;
        return true;
    }

    // Reads until the block is full or the source ends; an error ends the block after the bytes before it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int FillBlock(byte[] block, out bool endOfSource, out Exception? error)
    {
        int filled = 0;
        endOfSource = false;
        error = null;
        try
        {
            while (filled < block.Length)
            {
                int read = _source.Read(block, filled, block.Length - filled);
                if (read == 0)
                {
                    endOfSource = true;
                    break;
                }

                filled += read;
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        return filled;
    }

    private void ReadAhead()
    {
        CancellationToken stop = _stop.Token;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                byte[] block = _free.TryTake(out byte[]? recycled) ? recycled : new byte[_blockSize];
                int filled = FillBlock(block, out bool end, out Exception? error);
                if (filled > 0)
                {
                    _full.Add(new Block(block, filled, null), stop);
                }

                if (error is not null)
                {
                    _full.Add(new Block(null, 0, error), stop);
                    return;
                }

                if (end)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed while the consumer was behind: nobody wants the rest.
        }
        finally
        {
            _full.CompleteAdding();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _stop.Cancel();
            _reader?.Join();
            _source.Dispose();
            _full.Dispose();
            _stop.Dispose();
        }

        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private readonly record struct Block(byte[]? Buffer, int Length, Exception? Error);
}
