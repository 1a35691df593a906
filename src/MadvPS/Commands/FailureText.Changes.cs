using System.Collections.Generic;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>The words for what changed in a range since it was read (the core's <see cref="RangeChange"/>s), and how it was checked.</summary>
internal static partial class FailureText
{
    /// <summary>The parts of a range that changed, one clause each, joined by "; ".</summary>
    public static string Changes(IReadOnlyList<RangeChange> changes)
    {
        var clauses = new string[changes.Count];
        for (int i = 0; i < clauses.Length; i++)
        {
            clauses[i] = Change(changes[i]);
        }

        return string.Join("; ", clauses);
    }

    /// <summary>One changed part: "a-b is not mapped any more" or "a-b is now X, was Y".</summary>
    public static string Change(RangeChange change) => change.Kind switch
    {
        RangeChangeKind.Unmapped => $"{change.From:x}-{change.To:x} is not mapped any more",
        _ => $"{change.From:x}-{change.To:x} is {Differences(change)}",
    };

    // "now X, was Y": each differing field, in the order path, device, inode, permissions, offset, bounds.
    private static string Differences(RangeChange change)
    {
        var now = new List<string>();
        var then = new List<string>();
        LiveVma vma = change.Now;
        MappingIdentity? was = change.Was;
        if (change.Fields.HasFlag(MappingFields.Path))
        {
            now.Add(MappingName(vma.Path));
            then.Add(MappingName(was?.Path ?? ""));
        }

        if (change.Fields.HasFlag(MappingFields.Device))
        {
            now.Add($"device {vma.Device}");
            then.Add($"device {was?.Device}");
        }

        if (change.Fields.HasFlag(MappingFields.Inode))
        {
            now.Add($"inode {vma.Inode}");
            then.Add($"inode {was?.Inode}");
        }

        if (change.Fields.HasFlag(MappingFields.Permissions))
        {
            now.Add(vma.Permissions);
            then.Add(was?.Permissions ?? "");
        }

        if (change.Fields.HasFlag(MappingFields.Offset))
        {
            now.Add($"offset {change.OffsetNow:x}");
            then.Add($"offset {change.OffsetWas:x}");
        }

        if (change.Fields.HasFlag(MappingFields.Bounds))
        {
            now.Add($"part of the mapping {vma.Start:x}-{vma.End:x}");
            then.Add($"the mapping {was?.VmaStart:x}-{was?.VmaEnd:x}");
        }

        return $"now {string.Join(", ", now)}, was {string.Join(", ", then)}";
    }

    private static string MappingName(string path) => path.Length == 0 ? "anonymous memory" : path;

    /// <summary>Where the live VMAs came from, for Invoke-MemoryAdvice's verbose line.</summary>
    public static string LiveCheck(LiveCheck check) => check.Source switch
    {
        LiveSource.Nothing => "nothing to check",
        LiveSource.Query => $"PROCMAP_QUERY, {check.Vmas} VMA(s)",
        LiveSource.NoAccess => "not checked: no read access to its maps; process_madvise makes the same access check",
        _ => $"/proc/{check.ProcessId}/maps read beside the calls, {check.Vmas} VMA(s)" +
            (check.QueriedRanges > 0 ? $"; {check.QueriedRanges} large range(s) by PROCMAP_QUERY" : ""),
    };
}
