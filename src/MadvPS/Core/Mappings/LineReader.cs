using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace MadvPS.Core;

/// <summary>
/// The lines of a /proc text file, found in large blocks of its bytes: a line is a span of the
/// buffer, valid until the next call, and no string is built for it.
/// </summary>
internal sealed class LineReader
{
    private const int InitialBufferSize = 128 * 1024;

    // The longest line the kernel writes is a header with a PATH_MAX name whose every byte is an
    // escaped newline (\012): about 16 KiB. A longer line is not smaps text; without a cap the
    // buffer would grow until memory ran out.
    internal const int MaxLineLength = 1024 * 1024;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _lineStart;
    private int _dataEnd;
    private bool _endOfStream;
    private int _ungetStart = -1;

    public LineReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>The number of the last line returned, from 1.</summary>
    public long LineNumber { get; private set; }

    /// <summary>
    /// The next line without its newline; false at the end. <paramref name="terminated"/> is false
    /// for a last line that has no newline: text that was cut off.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetLine(out ReadOnlySpan<byte> line, out bool terminated)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_lineStart, _dataEnd - _lineStart).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = _buffer.AsSpan(_lineStart, newline);
                _ungetStart = _lineStart;
                _lineStart += newline + 1;
                LineNumber++;
                terminated = true;
                return true;
            }

            if (_endOfStream)
            {
                if (_lineStart < _dataEnd)
                {
                    line = _buffer.AsSpan(_lineStart, _dataEnd - _lineStart);
                    _ungetStart = _lineStart;
                    _lineStart = _dataEnd;
                    LineNumber++;
                    terminated = false;
                    return true;
                }

                line = default;
                terminated = false;
                return false;
            }

            Fill();
        }
    }

    /// <summary>Gives back the line just returned, so that the next call returns it again.</summary>
    public void Unget()
    {
        _lineStart = _ungetStart;
        LineNumber--;
    }

    private void Fill()
    {
        int pending = _dataEnd - _lineStart;
        if (_lineStart > 0)
        {
            Buffer.BlockCopy(_buffer, _lineStart, _buffer, 0, pending);
            _lineStart = 0;
            _dataEnd = pending;
        }

        if (_dataEnd == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineLength)
            {
                throw new SmapsFormatException(SmapsDefect.LineTooLong, LineNumber + 1);
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int read = _stream.Read(_buffer, _dataEnd, _buffer.Length - _dataEnd);
        if (read == 0)
        {
            _endOfStream = true;
        }

        _dataEnd += read;
    }
}
