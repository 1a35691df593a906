using System;

namespace MadvPS.Core;

internal enum FileCacheFailure
{
    /// <summary>No file at the path (ENOENT, ENOTDIR).</summary>
    NotFound,
    /// <summary>The path names a directory.</summary>
    IsDirectory,
    /// <summary>A FIFO, socket or device: not opened, since opening some devices has effects.</summary>
    NotRegularFile,
    /// <summary>The caller may not read the file, or search a directory on its path.</summary>
    AccessDenied,
    /// <summary>The file is on hugetlbfs, which keeps huge pages and no page cache.</summary>
    Hugetlbfs,
    /// <summary>The kernel hides this file's page cache from the caller (not owner, no CAP_FOWNER, no write permission).</summary>
    PageCacheHidden,
    /// <summary>The architecture cannot make the calls (see Libc.FixedArityVariadicCallsAreSafe).</summary>
    PlatformNotSupported,
    /// <summary>fdatasync failed (EIO: the data could not be written).</summary>
    FlushFailed,
    /// <summary>posix_fadvise refused the advice.</summary>
    AdviceFailed,
    /// <summary>Any other failure of a system call, with its errno.</summary>
    SystemCallFailed,
}

/// <summary>
/// A file whose page cache cannot be measured or advised, and why, as data: the Commands layer
/// words it (Commands/FailureText.cs). The Message is a technical summary for logs and debuggers.
/// </summary>
internal sealed class FileCacheException : Exception
{
    public FileCacheException(FileCacheFailure failure, string path, int errno = 0, Exception? inner = null)
        : base(null, inner)
    {
        Failure = failure;
        Path = path;
        ErrorNumber = errno;
    }

    public FileCacheFailure Failure { get; }
    public string Path { get; }
    /// <summary>The errno behind the failure, or 0.</summary>
    public int ErrorNumber { get; }

    /// <summary>The system call that failed (open, statx, mmap, mincore, cachestat, fdatasync), or null.</summary>
    public string? SystemCall { get; init; }

    /// <summary>For NotRegularFile: the file-type bits of its mode (S_IFMT, <see cref="FileType"/>).</summary>
    public int FileTypeBits { get; init; }

    /// <summary>For AdviceFailed: the advice refused.</summary>
    public FileAdvice? Advice { get; init; }

    public override string Message =>
        $"{Failure}: '{Path}'{(SystemCall is null ? "" : $", {SystemCall}")}{(ErrorNumber == 0 ? "" : $" {KernelError.NameOf(ErrorNumber)}")}{(Advice is null ? "" : $", {Advice}")}.";
}
