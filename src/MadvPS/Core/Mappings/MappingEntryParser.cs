using System;
using System.Buffers.Text;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;

namespace MadvPS.Core;

/// <summary>
/// What the parsers of /proc/PID/maps (<see cref="MapsParser"/>) and smaps (<see cref="SmapsParser"/>)
/// share: the lines, the reused entry, and the grammar of the header line that show_map_vma
/// (fs/proc/task_mmu.c) prints for both, <c>start-end perms offset major:minor inode [padding name]</c>.
/// Strings the header yields are cached, so entries that name the same file or device share one.
/// </summary>
internal abstract class MappingEntryParser
{
    private static readonly string[] s_permissions = BuildPermissionStrings();

    private readonly Dictionary<int, string> _devices = new();
    private byte[] _lastNameBytes = Array.Empty<byte>();
    private int _lastNameLength = -1;
    private string _lastName = "";

    protected MappingEntryParser(Stream stream)
    {
        Lines = new LineReader(stream);
    }

    protected LineReader Lines { get; }

    /// <summary>The entry every call fills; overwritten by the next.</summary>
    protected SmapsEntry Entry { get; } = new();

    /// <summary>The line the current entry's header is on.</summary>
    protected long EntryLine { get; private set; }

    /// <summary>
    /// Parses up to the end of the next complete entry. Returns false at a clean end of the text.
    /// The returned entry is overwritten by the next call.
    /// </summary>
    public abstract bool TryReadEntry(out SmapsEntry entry);

    // Header lines start with the hex start address; field lines with a capitalised key.
    protected static bool IsHeader(ReadOnlySpan<byte> line)
    {
        byte first = line[0];
        return (first >= (byte)'0' && first <= (byte)'9') || (first >= (byte)'a' && first <= (byte)'f');
    }

    /// <summary>Starts a new entry at the current line and reads its header into <see cref="Entry"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void StartEntry(ReadOnlySpan<byte> line)
    {
        Entry.Reset();
        EntryLine = Lines.LineNumber;
        ParseHeader(line);
    }

    protected SmapsFormatException Malformed(SmapsDefect defect, string? key = null) => SmapsFormatException.Malformed(EntryLine, Lines.LineNumber, defect, key);

    // start-end perms offset MM:mm inode [padding name]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseHeader(ReadOnlySpan<byte> line)
    {
        SmapsEntry entry = Entry;
        int position = 0;
        entry.Start = ReadHex(line, ref position, (byte)'-');
        entry.End = ReadHex(line, ref position, (byte)' ');
        if (entry.End < entry.Start)
        {
            throw Malformed(SmapsDefect.EndBeforeStart);
        }

        if (position + 5 > line.Length || line[position + 4] != (byte)' ')
        {
            throw Malformed(SmapsDefect.PermissionsNotFourCharacters);
        }

        entry.Permissions = ParsePermissions(line.Slice(position, 4));
        position += 5;
        entry.Offset = ReadHex(line, ref position, (byte)' ');
        int deviceStart = position;
        ulong major = ReadHex(line, ref position, (byte)':');
        ulong minor = ReadHex(line, ref position, (byte)' ');
        if (major > 0xFFF || minor > 0xFFFFF)
        {
            // MAJOR() has 12 bits and MINOR() 20 (include/linux/kdev_t.h, MINORBITS): the pair
            // keys the device cache exactly, so two devices never share one string.
            throw Malformed(SmapsDefect.DeviceNotMajorMinor);
        }

        entry.Device = DeviceString(line.Slice(deviceStart, position - deviceStart - 1), major, minor);
        entry.Inode = ReadDecimalUntilSpaceOrEnd(line, ref position);

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

        entry.IsDeleted = deleted;
        entry.Path = NameString(name);
        entry.Kind = MappingKinds.Classify(entry.Path, entry.Inode, entry.Permissions);
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
    /// show_map_vma: <c>seq_path(m, file_path, "\n")</c>); every other byte is raw. Bytes that are
    /// not UTF-8 are kept as U+DC00+b (<see cref="FileNameBytes"/>), so the name is exact.
    /// </summary>
    internal static string DecodeName(ReadOnlySpan<byte> name)
    {
        if (name.IndexOf(@"\012"u8) < 0)
        {
            return FileNameBytes.Decode(name);
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

        return FileNameBytes.Decode(decoded.AsSpan(0, length));
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
            throw Malformed(SmapsDefect.HeaderNotInGrammar);
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
    protected ulong ParseUnsigned(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty
            || !Utf8Parser.TryParse(digits, out ulong value, out int consumed)
            || consumed != digits.Length)
        {
            throw Malformed(SmapsDefect.NotAWholeNumber, Encoding.ASCII.GetString(digits));
        }

        return value;
    }
}
