using System;
using System.Collections.Generic;
using System.IO;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>One mapping as /proc/PID/maps lists it now: the part of it that pagemap can describe.</summary>
internal readonly record struct MappedRange(ulong Start, ulong End, string Path, MappingKind Kind);

/// <summary>
/// A process whose pages are read: its /proc directory (bound to the process), the identity the
/// caller expects checked against it, its pagemap opened, and its mappings as maps lists them when
/// it was opened, so that a range can be cut to the mappings it meets.
/// </summary>
internal sealed class PagedProcess : IDisposable
{
    private static bool s_noQuery;
    private readonly ProcDirectory _directory;
    private List<MappedRange> _mappings;
    private long _readAt = Environment.TickCount64;

    private PagedProcess(ProcDirectory directory, ProcessStat stat, string name, PagemapReader reader, List<MappedRange> mappings)
    {
        _directory = directory;
        Stat = stat;
        Name = name;
        Reader = reader;
        _mappings = mappings;
    }

    public ProcessStat Stat { get; }
    public int ProcessId => Stat.ProcessId;
    public string Name { get; }
    public string BootId => ProcessIdentity.CurrentBootId;
    public PagemapReader Reader { get; }
    public IReadOnlyList<MappedRange> Mappings => _mappings;

    /// <summary>
    /// Opens the process: the boot and start time, when given, must be this host's and the
    /// process's (IdentityChanged otherwise); pagemap needs ptrace read access (PermissionDenied).
    /// </summary>
    public static PagedProcess Open(int processId, ulong? expectedStartTime, string? expectedBootId, string? readOn, PageSource? source = null)
    {
        if (expectedBootId is not null && !string.Equals(expectedBootId, ProcessIdentity.CurrentBootId, StringComparison.OrdinalIgnoreCase))
        {
            throw ProcessHandle.BootMismatch(processId, expectedBootId, readOn, ProcessActivity.ReadingPages);
        }

        ProcDirectory directory = ProcDirectory.Open(processId);
        try
        {
            ProcessStat stat = directory.ReadStat()
                ?? throw new ProcessAccessException(ProcessAccessFailure.NotFound, processId) { Activity = ProcessActivity.ReadingPages };
            if (expectedStartTime is ulong expected && stat.StartTime != expected)
            {
                throw ProcessHandle.StartTimeMismatch(processId, expected, stat, ProcessActivity.ReadingPages);
            }

            string name = ProcessNames.Resolve(processId, stat.Command);
            PagemapReader reader = PagemapReader.Open(directory, source);
            try
            {
                return new PagedProcess(directory, stat, name, reader, ReadMaps(directory, stat));
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    private static List<MappedRange> ReadMaps(ProcDirectory directory, ProcessStat stat)
    {
        var mappings = new List<MappedRange>();
        try
        {
            using FileStream stream = directory.OpenRead("maps");
            var parser = new MapsParser(stream);
            while (parser.TryReadEntry(out SmapsEntry entry))
            {
                mappings.Add(new MappedRange(entry.Start, entry.End, entry.Path, entry.Kind));
            }
        }
        catch (Exception e) when (e is LinuxErrorException or IOException or SmapsFormatException && !directory.IsAlive())
        {
            throw new ProcessAccessException(ProcessAccessFailure.Exited, stat.ProcessId, e) { ProcessName = stat.Command };
        }

        return mappings;
    }

    /// <summary>
    /// Reads maps again, for a range [start, end) the list does not know (the process mapped it
    /// after the list was read); at most every 100 ms. Where the kernel has PROCMAP_QUERY (6.11),
    /// one query first: a range that is really unmapped (a mapping piped in after it was unmapped)
    /// then costs one call, not the kernel printing every mapping again. False when nothing is
    /// mapped there now or the list was read too recently.
    /// </summary>
    public bool Refresh(ulong start, ulong end)
    {
        if (NothingMapped(start, end))
        {
            return false;
        }

        if (Environment.TickCount64 - _readAt < 100)
        {
            return false;
        }

        _mappings = ReadMaps(_directory, Stat);
        _readAt = Environment.TickCount64;
        return true;
    }

    // True only when PROCMAP_QUERY answers that no mapping meets [start, end); false when one
    // does, or the kernel has no PROCMAP_QUERY, or maps cannot be opened (ReadMaps then says why).
    private bool NothingMapped(ulong start, ulong end)
    {
        if (s_noQuery)
        {
            return false;
        }

        FileStream maps;
        try
        {
            maps = _directory.OpenRead("maps");
        }
        catch (Exception e) when (e is LinuxErrorException or IOException)
        {
            return false;
        }

        using (maps)
        {
            Span<byte> name = stackalloc byte[256];
            int errno = Libc.ProcmapQuery(maps.SafeFileHandle, start, Libc.PROCMAP_QUERY_COVERING_OR_NEXT_VMA, name, out ProcmapQueryArgs vma).Errno;
            if (errno == (int)Errno.ENOENT)
            {
                return true;
            }

            if (errno is (int)Errno.ENOTTY or (int)Errno.EINVAL or (int)Errno.ENOSYS)
            {
                s_noQuery = true;
            }

            return errno == 0 && vma.VmaStart >= end;
        }
    }

    /// <summary>
    /// The index in <see cref="Mappings"/> of the first mapping that ends after
    /// <paramref name="start"/> (Count when none). The parts of [start, end) that lie in mappings
    /// are those from there on that start before end, each cut to [start, end): see <see cref="Piece"/>.
    /// </summary>
    public int FirstEndingAfter(ulong start)
    {
        // maps is sorted by address.
        int low = 0, high = _mappings.Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_mappings[middle].End <= start)
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

    /// <summary>Mapping <paramref name="index"/> cut to [start, end).</summary>
    public MappedRange Piece(int index, ulong start, ulong end)
    {
        MappedRange m = _mappings[index];
        return m.Start >= start && m.End <= end ? m : m with { Start = Math.Max(m.Start, start), End = Math.Min(m.End, end) };
    }

    public void Dispose()
    {
        Reader.Dispose();
        _directory.Dispose();
    }
}
