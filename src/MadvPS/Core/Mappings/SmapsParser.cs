using System;
using System.Buffers.Text;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;

namespace MadvPS.Core;

/// <summary>The size fields of an smaps or smaps_rollup entry, in the kernel's order.</summary>
internal enum SmapsField
{
    Size,
    KernelPageSize,
    MMUPageSize,
    Rss,
    Pss,
    PssDirty,
    PssAnon,
    PssFile,
    PssShmem,
    SharedClean,
    SharedDirty,
    PrivateClean,
    PrivateDirty,
    Referenced,
    Anonymous,
    Ksm,
    LazyFree,
    AnonHugePages,
    ShmemPmdMapped,
    FilePmdMapped,
    SharedHugetlb,
    PrivateHugetlb,
    Swap,
    SwapPss,
    Locked,
    Count,
}

/// <summary>smaps text that is not what the kernel writes, or that stops part way through an entry.</summary>
internal sealed class SmapsFormatException : Exception
{
    public SmapsFormatException(string message, long lineNumber) : base($"{message} (line {lineNumber}).")
    {
        LineNumber = lineNumber;
    }

    public long LineNumber { get; }
}

/// <summary>
/// The entry being parsed. One instance is reused for every entry of a file, so parsing allocates
/// nothing per line: only the strings a mapping keeps, and those are shared between entries that
/// name the same file.
/// </summary>
internal sealed class SmapsEntry
{
    public readonly long[] Sizes = new long[(int)SmapsField.Count];
    public ulong Start;
    public ulong End;
    public string Permissions = "";
    public ulong Offset;
    public string Device = "";
    public ulong Inode;
    public string Path = "";
    public bool IsDeleted;
    public MappingKind Kind;
    public bool ThpEligible;
    public int? ProtectionKey;
    public VmFlags VmFlags;
    public string UnknownVmFlags = "";
    public bool HasVmFlags;

    internal void Reset()
    {
        Array.Clear(Sizes);
        ThpEligible = false;
        ProtectionKey = null;
        VmFlags = VmFlags.None;
        UnknownVmFlags = "";
        HasVmFlags = false;
    }
}

/// <summary>
/// A streaming parser of <c>/proc/PID/smaps</c> and <c>smaps_rollup</c> (fs/proc/task_mmu.c).
/// It reads the stream in large blocks, finds lines in the bytes and parses fields in place:
/// no string is built per line. An entry is handed out only once it is complete, so a mapping
/// never carries fields of two entries, and text that ends part way through an entry yields
/// the complete entries before it and then one <see cref="SmapsFormatException"/>.
/// </summary>
/// <remarks>
/// The methods that run per line are compiled fully optimized at once (AggressiveOptimization):
/// a cmdlet calls them in a burst a few times per pwsh, before tiered compilation would promote
/// them from tier 0, and tier-0 code parses at a third of the speed.
/// </remarks>
internal sealed class SmapsParser
{
    private const int InitialBufferSize = 128 * 1024;

    // The longest line the kernel writes is a header with a PATH_MAX name whose every byte is an
    // escaped newline (\012): about 16 KiB. A longer line is not smaps text; without a cap the
    // buffer would grow until memory ran out.
    private const int MaxLineLength = 1024 * 1024;

    private static readonly (byte[] Key, SmapsField Field)[] s_sizeKeys =
    {
        ("Size"u8.ToArray(), SmapsField.Size),
        ("KernelPageSize"u8.ToArray(), SmapsField.KernelPageSize),
        ("MMUPageSize"u8.ToArray(), SmapsField.MMUPageSize),
        ("Rss"u8.ToArray(), SmapsField.Rss),
        ("Pss"u8.ToArray(), SmapsField.Pss),
        ("Pss_Dirty"u8.ToArray(), SmapsField.PssDirty),
        ("Pss_Anon"u8.ToArray(), SmapsField.PssAnon),
        ("Pss_File"u8.ToArray(), SmapsField.PssFile),
        ("Pss_Shmem"u8.ToArray(), SmapsField.PssShmem),
        ("Shared_Clean"u8.ToArray(), SmapsField.SharedClean),
        ("Shared_Dirty"u8.ToArray(), SmapsField.SharedDirty),
        ("Private_Clean"u8.ToArray(), SmapsField.PrivateClean),
        ("Private_Dirty"u8.ToArray(), SmapsField.PrivateDirty),
        ("Referenced"u8.ToArray(), SmapsField.Referenced),
        ("Anonymous"u8.ToArray(), SmapsField.Anonymous),
        ("KSM"u8.ToArray(), SmapsField.Ksm),
        ("LazyFree"u8.ToArray(), SmapsField.LazyFree),
        ("AnonHugePages"u8.ToArray(), SmapsField.AnonHugePages),
        ("ShmemPmdMapped"u8.ToArray(), SmapsField.ShmemPmdMapped),
        ("FilePmdMapped"u8.ToArray(), SmapsField.FilePmdMapped),
        ("Shared_Hugetlb"u8.ToArray(), SmapsField.SharedHugetlb),
        ("Private_Hugetlb"u8.ToArray(), SmapsField.PrivateHugetlb),
        ("Swap"u8.ToArray(), SmapsField.Swap),
        ("SwapPss"u8.ToArray(), SmapsField.SwapPss),
        ("Locked"u8.ToArray(), SmapsField.Locked),
    };

    private static readonly string[] s_permissions = BuildPermissionStrings();

    private readonly Stream _stream;
    private readonly bool _expectVmFlags;
    private readonly bool _headersOnly;
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _lineStart;
    private int _dataEnd;
    private bool _endOfStream;
    private long _lineNumber;
    private int _nextKeyGuess;

    private readonly SmapsEntry _entry = new();
    private bool _entryOpen;
    private long _entryLine;
    private ulong _seenKeys;
    private const ulong ThpEligibleKey = 1UL << 62, ProtectionKeyKey = 1UL << 63;

    private readonly Dictionary<int, string> _devices = new();
    private byte[] _lastNameBytes = Array.Empty<byte>();
    private int _lastNameLength = -1;
    private string _lastName = "";
    private string _lastUnknownFlags = "";
    private byte[] _lastUnknownFlagBytes = Array.Empty<byte>();

    /// <param name="expectVmFlags">
    /// True for smaps, whose entries each end with a VmFlags line (Linux 3.8+); false for
    /// smaps_rollup, which has none.
    /// </param>
    public SmapsParser(Stream stream, bool expectVmFlags = true)
    {
        _stream = stream;
        _expectVmFlags = expectVmFlags;
    }

    private SmapsParser(Stream stream, bool expectVmFlags, bool headersOnly) : this(stream, expectVmFlags)
    {
        _headersOnly = headersOnly;
    }

    /// <summary>
    /// A parser of /proc/PID/maps: the same header lines as smaps (show_map_vma prints both), one
    /// line an entry, no fields. Entries have no sizes and no VmFlags (HasVmFlags stays false).
    /// </summary>
    public static SmapsParser ForMaps(Stream stream) => new(stream, expectVmFlags: false, headersOnly: true);

    /// <summary>
    /// Parses up to the end of the next complete entry. Returns false at a clean end of the text.
    /// The returned entry is overwritten by the next call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadEntry(out SmapsEntry entry)
    {
        entry = _entry;
        while (true)
        {
            if (!TryGetLine(out ReadOnlySpan<byte> line, out bool terminated))
            {
                if (_entryOpen)
                {
                    _entryOpen = false;
                    if (!EntryIsWhole)
                    {
                        throw new SmapsFormatException(
                            $"The entry that starts at line {_entryLine} ends before its {(_expectVmFlags ? "VmFlags" : "Locked")} line: the text was cut off", _lineNumber);
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
                    UngetLine();
                    _entryOpen = false;
                    return true;
                }

                _entryOpen = false;
                throw new SmapsFormatException("The text ends part way through a line: it was cut off", _lineNumber);
            }

            if (line.Length == 0)
            {
                continue;
            }

            if (IsHeader(line))
            {
                bool hadEntry = _entryOpen;
                if (hadEntry && _expectVmFlags && !_entry.HasVmFlags)
                {
                    throw new SmapsFormatException(
                        $"The entry that starts at line {_entryLine} has no VmFlags line before the next entry", _lineNumber);
                }

                if (hadEntry)
                {
                    // Hand out the finished entry; the header is parsed again on the next call.
                    UngetLine();
                    _entryOpen = false;
                    return true;
                }

                _entry.Reset();
                _seenKeys = 0;
                _entryLine = _lineNumber;
                ParseHeader(line);
                if (_headersOnly)
                {
                    return true;
                }

                _entryOpen = true;
                continue;
            }

            if (_headersOnly)
            {
                throw new SmapsFormatException("A maps line does not start with an address range", _lineNumber);
            }

            if (!_entryOpen)
            {
                throw new SmapsFormatException("A field appears before any mapping header", _lineNumber);
            }

            if (_expectVmFlags && _entry.HasVmFlags)
            {
                // VmFlags is the last line of an smaps entry (show_smap): an entry is handed out
                // only at the next header or the end, so a line spliced in after it fails the
                // entry instead of ending it with another entry's VmFlags.
                throw Malformed("a line follows its VmFlags line");
            }

            ParseField(line);
        }
    }

    // An smaps entry ends with VmFlags, a rollup with Locked (__show_smap prints it last since
    // smaps_rollup came in 4.14): without it the text was cut short.
    private bool EntryIsWhole => _expectVmFlags ? _entry.HasVmFlags : Seen(SmapsField.Locked);

    private bool Seen(SmapsField field) => (_seenKeys & (1UL << (int)field)) != 0;

    // The kernel writes each key once per entry: a second one is a line of another entry.
    private void MarkSeen(ulong key, ReadOnlySpan<byte> name)
    {
        if ((_seenKeys & key) != 0)
        {
            throw Malformed($"its {Encoding.ASCII.GetString(name)} line appears twice");
        }

        _seenKeys |= key;
    }

    private int _ungetStart = -1;

    private void UngetLine()
    {
        _lineStart = _ungetStart;
        _lineNumber--;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryGetLine(out ReadOnlySpan<byte> line, out bool terminated)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_lineStart, _dataEnd - _lineStart).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = _buffer.AsSpan(_lineStart, newline);
                _ungetStart = _lineStart;
                _lineStart += newline + 1;
                _lineNumber++;
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
                    _lineNumber++;
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
                throw new SmapsFormatException($"A line is longer than {MaxLineLength / 1024} KiB, which no smaps line is: this is not smaps text", _lineNumber + 1);
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

    // Header lines start with the hex start address; field lines with a capitalised key.
    private static bool IsHeader(ReadOnlySpan<byte> line)
    {
        byte first = line[0];
        return (first >= (byte)'0' && first <= (byte)'9') || (first >= (byte)'a' && first <= (byte)'f');
    }

    // start-end perms offset MM:mm inode [padding name]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseHeader(ReadOnlySpan<byte> line)
    {
        int position = 0;
        _entry.Start = ReadHex(line, ref position, (byte)'-');
        _entry.End = ReadHex(line, ref position, (byte)' ');
        if (_entry.End < _entry.Start)
        {
            throw Malformed("its end address lies before its start");
        }

        if (position + 5 > line.Length || line[position + 4] != (byte)' ')
        {
            throw Malformed("its permissions are not four characters");
        }

        _entry.Permissions = ParsePermissions(line.Slice(position, 4));
        position += 5;
        _entry.Offset = ReadHex(line, ref position, (byte)' ');
        int deviceStart = position;
        ulong major = ReadHex(line, ref position, (byte)':');
        ulong minor = ReadHex(line, ref position, (byte)' ');
        if (major > 0xFFF || minor > 0xFFFFF)
        {
            // MAJOR() has 12 bits and MINOR() 20 (include/linux/kdev_t.h, MINORBITS): the pair
            // keys the device cache exactly, so two devices never share one string.
            throw Malformed("its device is not a kernel major:minor");
        }

        _entry.Device = DeviceString(line.Slice(deviceStart, position - deviceStart - 1), major, minor);
        _entry.Inode = ReadDecimalUntilSpaceOrEnd(line, ref position);

        while (position < line.Length && line[position] == (byte)' ')
        {
            position++;
        }

        ReadOnlySpan<byte> name = line.Slice(position);
        const string deletedSuffix = " (deleted)";
        bool deleted = name.EndsWith(" (deleted)"u8);
        if (deleted)
        {
            name = name.Slice(0, name.Length - deletedSuffix.Length);
        }

        _entry.IsDeleted = deleted;
        _entry.Path = NameString(name);
        _entry.Kind = Classify(_entry.Path, _entry.Inode, _entry.Permissions);
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
            throw Malformed("a field line has no 'Key:'");
        }

        ReadOnlySpan<byte> key = line.Slice(0, colon);
        ReadOnlySpan<byte> value = line.Slice(colon + 1).TrimStart((byte)' ');

        if (key.SequenceEqual("VmFlags"u8))
        {
            if (!Seen(SmapsField.Size))
            {
                // Size is the first key of every smaps entry (show_smap).
                throw Malformed("it has no Size line before its VmFlags");
            }

            ParseVmFlags(value);
            return;
        }

        // Before the size keys, which they would all be compared with in vain.
        if (key.SequenceEqual("THPeligible"u8))
        {
            MarkSeen(ThpEligibleKey, key);
            _entry.ThpEligible = ParseUnsigned(value.TrimEnd((byte)' ')) != 0;
            return;
        }

        if (key.SequenceEqual("ProtectionKey"u8))
        {
            MarkSeen(ProtectionKeyKey, key);
            ulong protectionKey = ParseUnsigned(value.TrimEnd((byte)' '));
            _entry.ProtectionKey = protectionKey <= int.MaxValue ? (int)protectionKey : throw Malformed("the ProtectionKey is too large");
            return;
        }

        if (TryFindSizeField(key, out SmapsField field))
        {
            MarkSeen(1UL << (int)field, key);
            if (!value.EndsWith(" kB"u8))
            {
                throw Malformed($"the {Encoding.ASCII.GetString(key)} value is not in kB");
            }

            ulong kilobytes = ParseUnsigned(value.Slice(0, value.Length - 3).TrimEnd((byte)' '));
            if (kilobytes > long.MaxValue / 1024)
            {
                throw Malformed($"the {Encoding.ASCII.GetString(key)} value is too large");
            }

            _entry.Sizes[(int)field] = (long)kilobytes * 1024;
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

        int guess = _nextKeyGuess % s_sizeKeys.Length;
        (byte[] key, SmapsField sizeField) = s_sizeKeys[guess];
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
        _entry.Sizes[(int)sizeField] = (long)kilobytes * 1024;
        _nextKeyGuess = guess + 1;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryFindSizeField(ReadOnlySpan<byte> key, out SmapsField field)
    {
        // Keys come in the kernel's order, so the one after the last match is nearly always next.
        int count = s_sizeKeys.Length;
        for (int tried = 0; tried < count; tried++)
        {
            int index = (_nextKeyGuess + tried) % count;
            if (key.SequenceEqual(s_sizeKeys[index].Key))
            {
                field = s_sizeKeys[index].Field;
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

        _entry.VmFlags = flags;
        _entry.HasVmFlags = true;
        if (unknownLength > 0)
        {
            ReadOnlySpan<byte> text = unknown.Slice(0, unknownLength);
            if (!text.SequenceEqual(_lastUnknownFlagBytes))
            {
                _lastUnknownFlagBytes = text.ToArray();
                _lastUnknownFlags = Encoding.ASCII.GetString(text);
            }

            _entry.UnknownVmFlags = _lastUnknownFlags;
        }
    }

    private string DeviceString(ReadOnlySpan<byte> text, ulong major, ulong minor)
    {
        int key = (int)((major << 20) | (minor & 0xFFFFF));
        if (!_devices.TryGetValue(key, out string? device))
        {
            device = Encoding.ASCII.GetString(text);
            _devices[key] = device;
        }

        return device;
    }

    // Consecutive mappings of one file share the name, so the last name is kept and reused.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string NameString(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return "";
        }

        if (name.Length == _lastNameLength && name.SequenceEqual(_lastNameBytes.AsSpan(0, _lastNameLength)))
        {
            return _lastName;
        }

        if (_lastNameBytes.Length < name.Length)
        {
            _lastNameBytes = new byte[Math.Max(name.Length, 256)];
        }

        name.CopyTo(_lastNameBytes);
        _lastNameLength = name.Length;
        _lastName = DecodeName(name);
        return _lastName;
    }

    /// <summary>
    /// seq_path escapes only the newline of a path, as <c>\012</c> (fs/proc/task_mmu.c,
    /// show_map_vma: <c>seq_path(m, file_path, "\n")</c>); every other byte is raw.
    /// </summary>
    internal static string DecodeName(ReadOnlySpan<byte> name)
    {
        if (name.IndexOf(@"\012"u8) < 0)
        {
            return Encoding.UTF8.GetString(name);
        }

        var decoded = new byte[name.Length];
        int length = 0;
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] == (byte)'\\' && name.Slice(i).StartsWith(@"\012"u8))
            {
                decoded[length++] = (byte)'\n';
                i += 3;
            }
            else
            {
                decoded[length++] = name[i];
            }
        }

        return Encoding.UTF8.GetString(decoded, 0, length);
    }

    internal static MappingKind Classify(string path, ulong inode, string permissions)
    {
        if (path.Length == 0)
        {
            return MappingKind.Anonymous;
        }

        if (path[0] == '[')
        {
            return path switch
            {
                "[heap]" => MappingKind.Heap,
                "[vdso]" => MappingKind.Vdso,
                "[vsyscall]" => MappingKind.Vsyscall,
                _ when path.StartsWith("[stack", StringComparison.Ordinal) => MappingKind.Stack,
                _ when path.StartsWith("[vvar", StringComparison.Ordinal) => MappingKind.Vvar,
                _ when path.StartsWith("[anon:", StringComparison.Ordinal) => MappingKind.NamedAnonymous,
                _ when path.StartsWith("[anon_shmem:", StringComparison.Ordinal) => MappingKind.SharedMemory,
                _ => MappingKind.Special,
            };
        }

        if (path.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            return MappingKind.Memfd;
        }

        // Shared anonymous memory is backed by shmem and shows as "/dev/zero (deleted)";
        // System V segments as "/SYSV<key> (deleted)".
        if (path.StartsWith("/SYSV", StringComparison.Ordinal)
            || path.StartsWith("/dev/shm/", StringComparison.Ordinal)
            || (path == "/dev/zero" && permissions.Length == 4 && permissions[3] == 's'))
        {
            return MappingKind.SharedMemory;
        }

        return MappingKind.File;
    }

    private static string ParsePermissions(ReadOnlySpan<byte> text)
    {
        int index = 0;
        if (text[0] == (byte)'r') index |= 1;
        else if (text[0] != (byte)'-') return Encoding.ASCII.GetString(text);
        if (text[1] == (byte)'w') index |= 2;
        else if (text[1] != (byte)'-') return Encoding.ASCII.GetString(text);
        if (text[2] == (byte)'x') index |= 4;
        else if (text[2] != (byte)'-') return Encoding.ASCII.GetString(text);
        if (text[3] == (byte)'s') index |= 8;
        else if (text[3] != (byte)'p') return Encoding.ASCII.GetString(text);
        return s_permissions[index];
    }

    private static string[] BuildPermissionStrings()
    {
        var all = new string[16];
        for (int i = 0; i < 16; i++)
        {
            all[i] = string.Concat(
                (i & 1) != 0 ? "r" : "-",
                (i & 2) != 0 ? "w" : "-",
                (i & 4) != 0 ? "x" : "-",
                (i & 8) != 0 ? "s" : "p");
        }

        return all;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong ReadHex(ReadOnlySpan<byte> line, ref int position, byte terminator)
    {
        int end = line.Slice(position).IndexOf(terminator);
        if (end <= 0 || end > 16
            || !Utf8Parser.TryParse(line.Slice(position, end), out ulong value, out int consumed, 'x')
            || consumed != end)
        {
            throw Malformed("its header is not 'start-end perms offset major:minor inode name'");
        }

        position += end + 1;
        return value;
    }

    private ulong ReadDecimalUntilSpaceOrEnd(ReadOnlySpan<byte> line, ref int position)
    {
        int end = line.Slice(position).IndexOf((byte)' ');
        if (end < 0)
        {
            end = line.Length - position;
        }

        ulong value = ParseUnsigned(line.Slice(position, end));
        position += end;
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong ParseUnsigned(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty
            || !Utf8Parser.TryParse(digits, out ulong value, out int consumed)
            || consumed != digits.Length)
        {
            throw Malformed($"'{Encoding.ASCII.GetString(digits)}' is not a whole number");
        }

        return value;
    }

    private SmapsFormatException Malformed(string what) =>
        new($"The smaps entry that starts at line {_entryLine} is malformed: {what}", _lineNumber);
}
