using System;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Turns the core's failures into ErrorRecords: stable ids without values in them, a specific
/// category, the input as target, and the text <see cref="FailureText"/> words, which says what to do.
/// </summary>
internal static class ErrorRecords
{
    public static ErrorRecord ForProcess(ProcessAccessException e, object? target)
    {
        (string id, ErrorCategory category) = e.Failure switch
        {
            ProcessAccessFailure.NotFound => ("ProcessNotFound", ErrorCategory.ObjectNotFound),
            ProcessAccessFailure.PermissionDenied => ("ProcessAccessDenied", ErrorCategory.PermissionDenied),
            ProcessAccessFailure.Exited => ("ProcessExited", ErrorCategory.ObjectNotFound),
            ProcessAccessFailure.IdentityChanged => ("ProcessIdentityMismatch", ErrorCategory.InvalidData),
            ProcessAccessFailure.KernelThread => ("ProcessIsKernelThread", ErrorCategory.InvalidOperation),
            ProcessAccessFailure.Zombie => ("ProcessIsZombie", ErrorCategory.ObjectNotFound),
            ProcessAccessFailure.OtherPidNamespace => ("ProcessInOtherPidNamespace", ErrorCategory.InvalidData),
            ProcessAccessFailure.SystemError => ("ProcessOpenFailed", CategoryOf(e.Errno)),
            _ => throw new ArgumentOutOfRangeException(nameof(e)),
        };
        return Worded(e, id, category, target ?? e.ProcessId);
    }

    public static ErrorRecord ForFormat(SmapsFormatException e, int processId) =>
        Worded(e, "SmapsFormatInvalid", ErrorCategory.InvalidData, processId);

    public static ErrorRecord ForClearRefs(ClearRefsDeniedException e, object? target) =>
        Worded(e, "ClearRefsAccessDenied", ErrorCategory.PermissionDenied, target);

    public static ErrorRecord ForPageRange(PageRangeException e, object? target) =>
        Worded(e, "PageRangeInvalid", ErrorCategory.InvalidArgument, target);

    /// <summary>
    /// An ErrorRecord whose exception carries the user's text (<see cref="FailureText"/>) and, as
    /// its inner exception, the core's structured failure, which the category's reason still names
    /// (as it did when the core's exception was the record's own).
    /// </summary>
    public static ErrorRecord Worded(Exception failure, string id, ErrorCategory category, object? target)
    {
        var record = new ErrorRecord(new InvalidOperationException(FailureText.Of(failure), failure), id, category, target);
        record.CategoryInfo.Reason = failure.GetType().Name;
        return record;
    }

    public static ErrorCategory CategoryOf(int errno) => KernelError.NameOf(errno) switch
    {
        "EINVAL" or "EFAULT" => ErrorCategory.InvalidArgument,
        "ESRCH" or "ENOENT" or "ENOMEM" => ErrorCategory.ObjectNotFound,
        "EPERM" or "EACCES" => ErrorCategory.PermissionDenied,
        "EINTR" => ErrorCategory.OperationStopped,
        "EAGAIN" or "EBUSY" => ErrorCategory.ResourceBusy,
        "ENOSYS" or "EOPNOTSUPP" => ErrorCategory.NotImplemented,
        _ => ErrorCategory.InvalidOperation,
    };

    public static ErrorRecord ForWholeCall(ProcessAdviceException e, MemoryAdvice advice, int processId, object? target)
    {
        string message = FailureText.WholeCall(advice, processId, e.Errno);
        // ESRCH: the process exited during the advice. The same id as an exit seen anywhere else,
        // so that a run over short-lived processes can pass over them by one id.
        string id = KernelError.NameOf(e.Errno) == "ESRCH" ? "ProcessExited" : "ProcessAdviceRefused";
        return new ErrorRecord(new InvalidOperationException(message, e), id, CategoryOf(e.Errno), target ?? processId);
    }

    public static ErrorRecord AdviceNotAllowedForOtherProcess(MemoryAdvice advice, int processId, object? target) => new(
        new InvalidOperationException(FailureText.NotAllowedForOtherProcess(advice, processId)),
        "AdviceNotAllowedForOtherProcess", ErrorCategory.InvalidOperation, target ?? processId);
}
