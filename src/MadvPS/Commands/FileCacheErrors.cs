using System;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>ErrorRecords for files: stable ids, specific categories, the input as target, text that says what to do.</summary>
internal static class FileCacheErrors
{
    public static ErrorRecord For(FileCacheException e, object? target)
    {
        (string id, ErrorCategory category) = e.Failure switch
        {
            FileCacheFailure.NotFound => ("FileNotFound", ErrorCategory.ObjectNotFound),
            FileCacheFailure.IsDirectory => ("PathIsDirectory", ErrorCategory.InvalidArgument),
            FileCacheFailure.NotRegularFile => ("NotARegularFile", ErrorCategory.InvalidType),
            FileCacheFailure.AccessDenied => ("FileAccessDenied", ErrorCategory.PermissionDenied),
            FileCacheFailure.Hugetlbfs => ("HugetlbfsNotSupported", ErrorCategory.InvalidType),
            FileCacheFailure.PageCacheHidden => ("PageCacheHidden", ErrorCategory.PermissionDenied),
            FileCacheFailure.PlatformNotSupported => ("PlatformNotSupported", ErrorCategory.NotImplemented),
            FileCacheFailure.FlushFailed => ("FlushFailed", ErrorCategory.WriteError),
            FileCacheFailure.AdviceFailed => ("FileAdviceFailed", ErrorRecords.CategoryOf(e.ErrorNumber)),
            _ => ("FileCacheReadFailed", ErrorRecords.CategoryOf(e.ErrorNumber)),
        };
        return ErrorRecords.Worded(e, id, category, target ?? e.Path);
    }

    public static ErrorRecord NoMatch(string path) => new(
        new ItemNotFoundException($"No file matches '{path}'. Check the path and its wildcards; use -LiteralPath for a name that contains [ ] * or ?."),
        "FileNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord NotFileSystem(string path, string provider) => new(
        new ArgumentException($"'{path}' is a {provider} path: only files of the FileSystem provider have page cache."),
        "NotAFileSystemPath", ErrorCategory.InvalidArgument, path);

    public static ErrorRecord EmptyPath(object? target) => new(
        new ArgumentException("An empty path names no file. Give the path of a file."),
        "PathEmpty", ErrorCategory.InvalidArgument, target);

    public static ErrorRecord MappedFileDeleted(string path, object? target) => new(
        new ItemNotFoundException($"The mapping's file '{path}' has been deleted: a process still maps it, but no path leads to it any more. Its cache leaves when the last process unmaps it."),
        "MappedFileDeleted", ErrorCategory.ObjectNotFound, target ?? path);

    public static ErrorRecord FileReplaced(string path, ulong expected, ulong found, object? target) => new(
        new InvalidOperationException($"'{path}' is now inode {found}, but the object piped in named inode {expected}: the file was replaced since it was read (or is seen through an overlay). Nothing was done to it; read it again and pipe that."),
        "FileReplaced", ErrorCategory.InvalidData, target ?? path);

    public static ErrorRecord DirectoryUnreadable(string directory, Exception e) => new(
        e, "DirectoryUnreadable", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, directory);
}
