using System;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>ErrorRecords for files: stable ids, specific categories, the input as target, the text <see cref="FailureText"/> words.</summary>
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
        new ItemNotFoundException(FailureText.NoMatch(path)),
        "FileNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord NotFileSystem(string path, string provider) => new(
        new ArgumentException(FailureText.NotFileSystem(path, provider)),
        "NotAFileSystemPath", ErrorCategory.InvalidArgument, path);

    public static ErrorRecord EmptyPath(object? target) => new(
        new ArgumentException(FailureText.EmptyPath),
        "PathEmpty", ErrorCategory.InvalidArgument, target);

    public static ErrorRecord MappedFileDeleted(string path, object? target) => new(
        new ItemNotFoundException(FailureText.MappedFileDeleted(path)),
        "MappedFileDeleted", ErrorCategory.ObjectNotFound, target ?? path);

    public static ErrorRecord FileReplaced(string path, ulong expected, ulong found, object? target) => new(
        new InvalidOperationException(FailureText.FileReplaced(path, expected, found)),
        "FileReplaced", ErrorCategory.InvalidData, target ?? path);

    public static ErrorRecord DirectoryUnreadable(string directory, Exception e) => new(
        e, "DirectoryUnreadable", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, directory);
}
