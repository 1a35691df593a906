using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MadvPS.Core;

/// <summary>One VMA as the kernel shows it now.</summary>
internal readonly record struct LiveVma(ulong Start, ulong End, string Permissions, ulong Offset, string Device, ulong Inode, string Path);

/// <summary>
/// What a piped object says its mapping was when it was read. Each field is null when the object
/// did not carry it (a hand-made object or a CSV row): only the fields it carries are compared,
/// and an object with none is checked for being mapped only.
/// </summary>
/// <param name="VmaStart">With <paramref name="VmaEnd"/>: the bounds of the whole VMA as read (a
/// MemoryMapping's Start and End), compared only for ranges whose <see cref="PlannedRange.SameBounds"/> is set.</param>
internal sealed record MappingIdentity(string? Permissions, string? Device, ulong? Inode, ulong? Offset, string? Path, ulong? VmaStart = null, ulong? VmaEnd = null)
{
    public bool IsEmpty => Permissions is null && Device is null && Inode is null && Offset is null && Path is null;
}

/// <summary>The fields of a mapping's identity that can differ from what was read.</summary>
[Flags]
internal enum MappingFields
{
    None = 0,
    Path = 1,
    Device = 2,
    Inode = 4,
    Permissions = 8,
    Offset = 16,
    Bounds = 32,
}

/// <summary>How a part of a range changed since the read.</summary>
internal enum RangeChangeKind
{
    /// <summary>No VMA covers it any more.</summary>
    Unmapped,

    /// <summary>A VMA covers it, with another identity (<see cref="RangeChange.Fields"/> say which fields).</summary>
    Differs,
}

/// <summary>
/// One part of a range (From to To) that changed since the read, and so was not sent. For
/// <see cref="RangeChangeKind.Differs"/>: the fields that differ, the VMA there now and the
/// identity read; the offsets are those of the page at From, now and as read.
/// </summary>
internal sealed record RangeChange(
    ulong From,
    ulong To,
    RangeChangeKind Kind,
    MappingFields Fields = MappingFields.None,
    LiveVma Now = default,
    MappingIdentity? Was = null,
    ulong OffsetNow = 0,
    ulong OffsetWas = 0);

/// <summary>
/// Checks ranges against the address space as it is now, just before the calls that carry them:
/// each range is cut into the parts that lie in a VMA that still has the identity read, which are
/// sent, and the rest (holes, other mappings), which is reported and never sent.
/// </summary>
internal static class LiveMappings
{
    /// <summary>
    /// Splits <paramref name="range"/> over <paramref name="vmas"/> (sorted by start, not
    /// overlapping, as maps lists them): sets its Pieces to the parts still as read, and its
    /// Changes to what differs for the rest (null when nothing does).
    /// </summary>
    public static void Check(PlannedRange range, IReadOnlyList<LiveVma> vmas) =>
        Check(range, vmas is List<LiveVma> list ? CollectionsMarshal.AsSpan(list) : vmas.ToArray());

    /// <inheritdoc cref="Check(PlannedRange, IReadOnlyList{LiveVma})"/>
    public static void Check(PlannedRange range, ReadOnlySpan<LiveVma> vmas)
    {
        int cursor = -1;
        Check(range, vmas, ref cursor);
    }

    /// <inheritdoc cref="Check(PlannedRange, IReadOnlyList{LiveVma})"/>
    /// <param name="cursor">Where the last range's search ended, for ranges checked in address
    /// order (the search then walks on from it); -1 to search from scratch.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Check(PlannedRange range, ReadOnlySpan<LiveVma> vmas, ref int cursor)
    {
        ulong start = range.Start;
        ulong end = range.Start + (ulong)range.Length;
        int first = cursor;
        if (first < 0 || first > vmas.Length || (first > 0 && vmas[first - 1].End > start))
        {
            first = FirstEndingAfter(vmas, start);
        }
        else
        {
            while (first < vmas.Length && vmas[first].End <= start)
            {
                first++;
            }
        }

        cursor = first;

        // The common case, with nothing to allocate: one VMA holds the whole range, as it was read.
        if (first < vmas.Length && vmas[first].Start <= start && vmas[first].End >= end && Same(range, in vmas[first], start))
        {
            range.Pieces = null;
            range.Changes = null;
            range.ChangedBytes = 0;
            return;
        }

        var pieces = new List<AdviceRange>(1);
        var changes = new List<RangeChange>();
        long changedBytes = 0;
        ulong at = start;
        for (int i = first; i < vmas.Length && at < end; i++)
        {
            LiveVma vma = vmas[i];
            if (vma.Start >= end)
            {
                break;
            }

            if (vma.Start > at)
            {
                changes.Add(new RangeChange(at, vma.Start, RangeChangeKind.Unmapped));
                changedBytes += (long)(vma.Start - at);
                at = vma.Start;
            }

            ulong pieceEnd = Math.Min(end, vma.End);
            RangeChange? difference = Same(range, in vma, at) ? null : Differs(range, vma, at, pieceEnd);
            if (difference is null)
            {
                pieces.Add(new AdviceRange(at, (long)(pieceEnd - at)));
            }
            else
            {
                changes.Add(difference);
                changedBytes += (long)(pieceEnd - at);
            }

            at = pieceEnd;
        }

        if (at < end)
        {
            changes.Add(new RangeChange(at, end, RangeChangeKind.Unmapped));
            changedBytes += (long)(end - at);
        }

        range.Pieces = pieces;
        range.ChangedBytes = changedBytes;
        range.Changes = changes.Count == 0 ? null : changes;
    }

    // Whether the VMA now at address has the identity read (the fields the object carried).
    private static bool Same(PlannedRange range, in LiveVma vma, ulong address)
    {
        MappingIdentity? was = range.Identity;
        if (was is null)
        {
            return true;
        }

        return (was.Path is null || string.Equals(was.Path, vma.Path, StringComparison.Ordinal))
            && (was.Device is null || string.Equals(was.Device, vma.Device, StringComparison.Ordinal) || string.Equals(was.Device, vma.Device, StringComparison.OrdinalIgnoreCase))
            && (was.Inode is not ulong inode || inode == vma.Inode)
            && (was.Permissions is null || string.Equals(was.Permissions, vma.Permissions, StringComparison.Ordinal))
            && (was.Offset is not ulong offset || vma.Inode == 0 || offset + (address - range.Start) == vma.Offset + (address - vma.Start))
            && (!range.SameBounds || BoundsAsRead(was, vma));
    }

    // Whether the VMA has the bounds it was read with (true when the object did not carry them).
    private static bool BoundsAsRead(MappingIdentity was, in LiveVma vma) =>
        was.VmaStart is not ulong start || was.VmaEnd is not ulong end || (vma.Start == start && vma.End == end);

    // What differs between the identity read and the VMA now at address (up to to), or null.
    private static RangeChange? Differs(PlannedRange range, LiveVma vma, ulong address, ulong to)
    {
        MappingIdentity? was = range.Identity;
        if (was is null || was.IsEmpty)
        {
            return null;
        }

        MappingFields fields = MappingFields.None;
        if (was.Path is not null && !string.Equals(was.Path, vma.Path, StringComparison.Ordinal))
        {
            fields |= MappingFields.Path;
        }

        if (was.Device is not null && !string.Equals(was.Device, vma.Device, StringComparison.OrdinalIgnoreCase))
        {
            fields |= MappingFields.Device;
        }

        if (was.Inode is ulong inode && inode != vma.Inode)
        {
            fields |= MappingFields.Inode;
        }

        if (was.Permissions is not null && !string.Equals(was.Permissions, vma.Permissions, StringComparison.Ordinal))
        {
            fields |= MappingFields.Permissions;
        }

        // The same file mapped again at another offset: the page at this address is another one.
        ulong offsetNow = vma.Offset + (address - vma.Start);
        ulong offsetWas = was.Offset is ulong offset ? offset + (address - range.Start) : 0;
        if (was.Offset is not null && offsetWas != offsetNow && vma.Inode != 0)
        {
            fields |= MappingFields.Offset;
        }

        // A mapping of the same kind that grew, shrank, split, merged or took another's place.
        if (range.SameBounds && !BoundsAsRead(was, vma))
        {
            fields |= MappingFields.Bounds;
        }

        return fields == MappingFields.None ? null : new RangeChange(address, to, RangeChangeKind.Differs, fields, vma, was, offsetNow, offsetWas);
    }

    // Binary search: the first VMA whose end is after address.
    private static int FirstEndingAfter(ReadOnlySpan<LiveVma> vmas, ulong address)
    {
        int low = 0;
        int high = vmas.Length;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (vmas[middle].End <= address)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>
    /// The VMAs of the process now, from one read of /proc/PID/maps, all before any is checked:
    /// the check before <see cref="LiveMapsFeed"/>, which the benchmark still times against it.
    /// </summary>
    public static List<LiveVma> Read(ProcessStat process)
    {
        var vmas = new List<LiveVma>();
        using ProcDirectory directory = ProcDirectory.Open(process);
        foreach (SmapsEntry entry in MappingReader.ReadMapsEntries(directory, process))
        {
            vmas.Add(new LiveVma(entry.Start, entry.End, entry.Permissions, entry.Offset, entry.Device, entry.Inode, entry.Path));
        }

        return vmas;
    }
}
