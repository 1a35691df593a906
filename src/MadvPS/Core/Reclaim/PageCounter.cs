using System;

namespace MadvPS.Core;

/// <summary>
/// Counts where the pages of a range of one process are. The reclaim loop needs only this, so its
/// decisions can be tested against a model; <see cref="PagemapCounter"/> is the real one.
/// </summary>
internal interface IPageCounter
{
    PageCounts Count(ulong start, ulong end);
}

/// <summary>
/// The pages core's <see cref="PagemapReader"/> (PAGEMAP_SCAN, or pread of /proc/PID/pagemap)
/// opened once through the process's /proc directory and kept for the run, so a reused PID is
/// never read. Throws ProcessAccessException (PermissionDenied, Exited).
/// </summary>
internal sealed class PagemapCounter : IPageCounter, IDisposable
{
    private readonly PagemapReader _reader;

    public PagemapCounter(ProcDirectory directory)
    {
        _reader = PagemapReader.Open(directory);
    }

    public PageCounts Count(ulong start, ulong end) => _reader.Count(start, end - start);

    public void Dispose() => _reader.Dispose();
}
