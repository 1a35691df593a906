using System;
using System.Buffers.Text;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;

namespace MadvPS.Core;

/// <summary>
/// A streaming parser of <c>/proc/PID/smaps</c> and <c>smaps_rollup</c> (fs/proc/task_mmu.c): the
/// entry state machine and the field lines. It reads lines from a <see cref="LineReader"/> and
/// parses fields in place: no string is built per line. An entry is handed out only once it is
/// complete, so a mapping never carries fields of two entries, and text that ends part way through
/// an entry yields the complete entries before it and then one <see cref="SmapsFormatException"/>.
/// </summary>
/// <remarks>
/// The methods that run per line are compiled fully optimized at once (AggressiveOptimization):
/// a cmdlet calls them in a burst a few times per pwsh, before tiered compilation would promote
/// them from tier 0, and tier-0 code parses at a third of the speed.
/// </remarks>
internal sealed class SmapsParser : MappingEntryParser
{
    private const ulong ThpEligibleKey = 1UL << 62, ProtectionKeyKey = 1UL << 63;

    private readonly bool _expectVmFlags;
    private int _nextKeyGuess;
    private bool _entryOpen;
    private ulong _seenKeys;
    private string _lastUnknownFlags = "";
    private byte[] _lastUnknownFlagBytes = Array.Empty<byte>();

    /// <param name="stream">The text.</param>
    /// <param name="expectVmFlags">
    /// True for smaps, whose entries each end with a VmFlags line (Linux 3.8+); false for
    /// smaps_rollup, which has none.
    /// </param>
    public SmapsParser(Stream stream, bool expectVmFlags = true) : base(stream)
    {
        _expectVmFlags = expectVmFlags;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override bool TryReadEntry(out SmapsEntry entry)
    {
        entry = Entry;
        while (true)
        {
            if (!Lines.TryGetLine(out ReadOnlySpan<byte> line, out bool terminated))
            {
                if (_entryOpen)
                {
                    _entryOpen = false;
                    if (!EntryIsWhole)
                    {
                        throw new SmapsFormatException(SmapsDefect.CutOffEntry, Lines.LineNumber, EntryLine, _expectVmFlags ? "VmFlags" : "Locked");
                    }

                    return true;
                }

                return false;
            }

            if (!terminated)
            {
                if (_entryOpen && EntryIsWhole && (!_expectVmFlags || IsHeader(line)))
                {
                    // The entry before the cut is whole and the cut line starts the next one: hand
                    // the entry out; the cut line is the next call's error.
                    Lines.Unget();
                    _entryOpen = false;
                    return true;
                }

                _entryOpen = false;
                throw new SmapsFormatException(SmapsDefect.CutOffLine, Lines.LineNumber);
            }

            if (line.Length == 0)
            {
                continue;
            }

            if (IsHeader(line))
            {
                bool hadEntry = _entryOpen;
                if (hadEntry && _expectVmFlags && !Entry.HasVmFlags)
                {
                    throw new SmapsFormatException(SmapsDefect.NoVmFlagsBeforeNextEntry, Lines.LineNumber, EntryLine);
                }

                if (hadEntry)
                {
                    // Hand out the finished entry; the header is parsed again on the next call.
                    Lines.Unget();
                    _entryOpen = false;
                    return true;
                }

                _seenKeys = 0;
                StartEntry(line);
                _entryOpen = true;
                continue;
            }

            if (!_entryOpen)
            {
                throw new SmapsFormatException(SmapsDefect.FieldBeforeHeader, Lines.LineNumber);
            }

            if (_expectVmFlags && Entry.HasVmFlags)
            {
                // VmFlags is the last line of an smaps entry (show_smap): an entry is handed out
                // only at the next header or the end, so a line spliced in after it fails the
                // entry instead of ending it with another entry's VmFlags.
                throw Malformed(SmapsDefect.LineAfterVmFlags);
            }

            ParseField(line);
        }
    }

    // An smaps entry ends with VmFlags, a rollup with Locked (__show_smap prints it last since
    // smaps_rollup came in 4.14): without it the text was cut short.
    private bool EntryIsWhole => _expectVmFlags ? Entry.HasVmFlags : Seen(SmapsField.Locked);

    private bool Seen(SmapsField field) => (_seenKeys & (1UL << (int)field)) != 0;

    // The kernel writes each key once per entry: a second one is a line of another entry.
    private void MarkSeen(ulong key, ReadOnlySpan<byte> name)
    {
        if ((_seenKeys & key) != 0)
        {
            throw Malformed(SmapsDefect.FieldTwice, Encoding.ASCII.GetString(name));
        }

        _seenKeys |= key;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseField(ReadOnlySpan<byte> line)
    {
        if (TryParseExpectedSize(line))
        {
            return;
        }

        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            throw Malformed(SmapsDefect.NoKey);
        }

        ReadOnlySpan<byte> key = line.Slice(0, colon);
        ReadOnlySpan<byte> value = line.Slice(colon + 1).TrimStart((byte)' ');

        if (key.SequenceEqual("VmFlags"u8))
        {
            if (!Seen(SmapsField.Size))
            {
                // Size is the first key of every smaps entry (show_smap).
                throw Malformed(SmapsDefect.NoSizeBeforeVmFlags);
            }

            ParseVmFlags(value);
            return;
        }

        // Before the size keys, which they would all be compared with in vain.
        if (key.SequenceEqual("THPeligible"u8))
        {
            MarkSeen(ThpEligibleKey, key);
            Entry.ThpEligible = ParseUnsigned(value.TrimEnd((byte)' ')) != 0;
            return;
        }

        if (key.SequenceEqual("ProtectionKey"u8))
        {
            MarkSeen(ProtectionKeyKey, key);
            ulong protectionKey = ParseUnsigned(value.TrimEnd((byte)' '));
            Entry.ProtectionKey = protectionKey <= int.MaxValue ? (int)protectionKey : throw Malformed(SmapsDefect.ProtectionKeyTooLarge);
            return;
        }

        if (TryFindSizeField(key, out SmapsField field))
        {
            MarkSeen(1UL << (int)field, key);
            if (!value.EndsWith(" kB"u8))
            {
                throw Malformed(SmapsDefect.NotInKilobytes, Encoding.ASCII.GetString(key));
            }

            ulong kilobytes = ParseUnsigned(value.Slice(0, value.Length - 3).TrimEnd((byte)' '));
            if (kilobytes > long.MaxValue / 1024)
            {
                throw Malformed(SmapsDefect.ValueTooLarge, Encoding.ASCII.GetString(key));
            }

            Entry.Sizes[(int)field] = (long)kilobytes * 1024;
            return;
        }

        // Keys a later kernel adds are passed over, so that the module keeps working there.
    }

    /// <summary>
    /// The common case, quickly: the size key that follows the last one, printed as the kernel
    /// prints every size (__show_smap, fs/proc/task_mmu.c): the key and its colon, spaces, the
    /// value right-aligned to column 24, " kB". Takes only lines that the general path would read
    /// to the same value; anything else (a longer value, another key, stray bytes) is left to it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryParseExpectedSize(ReadOnlySpan<byte> line)
    {
        const int ValueEnd = 24;
        if (line.Length != ValueEnd + 3 || !line.Slice(ValueEnd).SequenceEqual(" kB"u8))
        {
            return false;
        }

        int guess = _nextKeyGuess % SmapsKeys.All.Length;
        (byte[] key, SmapsField sizeField) = SmapsKeys.All[guess];
        if (key.Length >= ValueEnd - 1 || line[key.Length] != (byte)':' || !line.StartsWith(key))
        {
            return false;
        }

        // Spaces, then the digits up to the column: what the general path reads with TrimStart and ParseUnsigned.
        ReadOnlySpan<byte> field = line.Slice(key.Length + 1, ValueEnd - key.Length - 1);
        int digitsStart = field.IndexOfAnyExcept((byte)' ');
        if (digitsStart < 0
            || !Utf8Parser.TryParse(field.Slice(digitsStart), out ulong kilobytes, out int consumed)
            || consumed != field.Length - digitsStart)
        {
            return false;
        }

        ulong seen = 1UL << (int)sizeField;
        if ((_seenKeys & seen) != 0 || kilobytes > long.MaxValue / 1024)
        {
            // A key twice, or a value too large: the general path says what is wrong.
            return false;
        }

        _seenKeys |= seen;
        Entry.Sizes[(int)sizeField] = (long)kilobytes * 1024;
        _nextKeyGuess = guess + 1;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryFindSizeField(ReadOnlySpan<byte> key, out SmapsField field)
    {
        // Keys come in the kernel's order, so the one after the last match is nearly always next.
        int count = SmapsKeys.All.Length;
        for (int tried = 0; tried < count; tried++)
        {
            int index = (_nextKeyGuess + tried) % count;
            if (key.SequenceEqual(SmapsKeys.All[index].Key))
            {
                field = SmapsKeys.All[index].Field;
                _nextKeyGuess = index + 1;
                return true;
            }
        }

        field = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseVmFlags(ReadOnlySpan<byte> value)
    {
        VmFlags flags = VmFlags.None;
        Span<byte> unknown = stackalloc byte[64];
        int unknownLength = 0;
        while (!value.IsEmpty)
        {
            int space = value.IndexOf((byte)' ');
            ReadOnlySpan<byte> code = space < 0 ? value : value.Slice(0, space);
            value = space < 0 ? default : value.Slice(space + 1);
            if (code.IsEmpty)
            {
                continue;
            }

            VmFlags flag = VmFlagCodes.FromCode(code);
            if (flag != VmFlags.None)
            {
                flags |= flag;
            }
            else if (unknownLength + code.Length + 1 <= unknown.Length)
            {
                if (unknownLength > 0)
                {
                    unknown[unknownLength++] = (byte)' ';
                }

                code.CopyTo(unknown.Slice(unknownLength));
                unknownLength += code.Length;
            }
        }

        Entry.VmFlags = flags;
        Entry.HasVmFlags = true;
        if (unknownLength > 0)
        {
            ReadOnlySpan<byte> text = unknown.Slice(0, unknownLength);
            if (!text.SequenceEqual(_lastUnknownFlagBytes))
            {
                _lastUnknownFlagBytes = text.ToArray();
                _lastUnknownFlags = Encoding.ASCII.GetString(text);
            }

            Entry.UnknownVmFlags = _lastUnknownFlags;
        }
    }
}
