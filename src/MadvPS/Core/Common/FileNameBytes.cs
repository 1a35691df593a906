using System;
using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace MadvPS.Core;

/// <summary>
/// Linux file names are bytes (any but NUL, and '/' between names), not text. A .NET string holds
/// them losslessly by the "surrogateescape" scheme Python uses for POSIX names (PEP 383): valid
/// UTF-8 decodes as UTF-8, and each byte b of an invalid sequence (always 0x80..0xFF) becomes the
/// lone surrogate U+DC00+b, which no valid UTF-8 decodes to. <see cref="ToNulTerminated"/> turns
/// such a string back into the same bytes, so a name read from the kernel opens the very file.
/// </summary>
internal static class FileNameBytes
{
    private const char FirstEscape = '\uDC80';
    private const char LastEscape = '\uDCFF';
    private const int StackLimit = 512;

    /// <summary>The name the bytes spell: UTF-8 where they are valid UTF-8, U+DC00+b for every other byte b.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return "";
        }

        // Nearly every name is valid UTF-8: one transcoding, and a U+FFFD only where it may be.
        string utf8 = Encoding.UTF8.GetString(bytes);
        if (!utf8.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return utf8;
        }

        // Each byte gives at most one UTF-16 unit (a 4-byte sequence gives two), so this is enough.
        char[]? rented = null;
        Span<char> chars = bytes.Length <= StackLimit
            ? stackalloc char[StackLimit]
            : (rented = ArrayPool<char>.Shared.Rent(bytes.Length));
        try
        {
            int length = 0;
            while (true)
            {
                OperationStatus status = Utf8.ToUtf16(bytes, chars.Slice(length), out int read, out int written, replaceInvalidSequences: false, isFinalBlock: true);
                length += written;
                bytes = bytes.Slice(read);
                if (status == OperationStatus.Done)
                {
                    break;
                }

                // InvalidData: the bytes at the front are an invalid sequence (or a truncated one
                // at the end); each of them is escaped on its own, as Python's decoder does.
                Rune.DecodeFromUtf8(bytes, out _, out int invalid);
                for (int i = 0; i < invalid; i++)
                {
                    chars[length++] = (char)(0xDC00 + bytes[i]);
                }

                bytes = bytes.Slice(invalid);
            }

            return new string(chars.Slice(0, length));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Whether the name holds bytes that are not UTF-8 (escaped as U+DC80..U+DCFF).</summary>
    public static bool HasEscapedBytes(string name)
    {
        ReadOnlySpan<char> text = name;
        int at;
        while ((at = text.IndexOfAnyInRange(FirstEscape, LastEscape)) >= 0)
        {
            if (at == 0 || !char.IsHighSurrogate(text[at - 1]))
            {
                return true;
            }

            text = text.Slice(at + 1);
        }

        return false;
    }

    /// <summary>
    /// The bytes of the name, with a NUL after them, for a system call: the inverse of
    /// <see cref="Decode"/>. A lone surrogate that is not an escaped byte (no name decodes to one)
    /// is written as U+FFFD, as .NET writes every lone surrogate.
    /// </summary>
    public static byte[] ToNulTerminated(string name)
    {
        if (!HasEscapedBytes(name))
        {
            byte[] utf8 = new byte[Encoding.UTF8.GetByteCount(name) + 1];
            Encoding.UTF8.GetBytes(name, utf8);
            return utf8;
        }

        // At most 3 bytes a UTF-16 unit (a pair gives 4 for 2 units).
        byte[] buffer = new byte[name.Length * 3 + 1];
        int length = 0;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c >= FirstEscape && c <= LastEscape)
            {
                buffer[length++] = (byte)(c - 0xDC00);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                length += new Rune(c, name[i + 1]).EncodeToUtf8(buffer.AsSpan(length));
                i++;
            }
            else
            {
                Rune rune = char.IsSurrogate(c) ? Rune.ReplacementChar : new Rune(c);
                length += rune.EncodeToUtf8(buffer.AsSpan(length));
            }
        }

        Array.Resize(ref buffer, length + 1);
        return buffer;
    }
}
