namespace MadvPS;

/// <summary>Which system call measured a file's page cache.</summary>
public enum CacheSource
{
    /// <summary>cachestat(2), Linux 6.5: cached, dirty, writeback and eviction counts.</summary>
    Cachestat,
    /// <summary>mincore(2) on a read-only mapping of the file: cached pages only.</summary>
    Mincore,
    /// <summary>Not measured: the kernel shows this file's page cache only to its owner, CAP_FOWNER or a user who may write it; the advice was given all the same, and the cached figures are 0.</summary>
    NotVisible,
}
