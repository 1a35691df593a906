using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

internal static class AdviceResults
{
    public static AdviceResult For(PlannedRange range, int processId, string processName, MemoryAdvice advice)
    {
        var result = new AdviceResult
        {
            ProcessId = processId,
            ProcessName = processName,
            Start = range.Start,
            End = range.Start + (ulong)range.Length,
            Size = range.Length,
            Path = range.Path,
            Advice = advice,
            BytesAdvised = range.Outcome.BytesAdvised,
            ResidentBytes = range.Foreseen.Rss,
            PrivateResidentBytes = range.Foreseen.PrivateResident,
            SwappedBytes = range.Foreseen.Swap,
            ForetoldBytes = range.ForetoldBytes,
        };

        if (range.Skip is not null)
        {
            result.Status = AdviceStatus.Skipped;
            result.Reason = FailureText.Skip(range.Skip);
        }
        else if (range.Outcome.Errno == 0 && range.Changes is not null)
        {
            string changed = FailureText.Changes(range.Changes);
            result.Status = AdviceStatus.Changed;
            result.Reason = range.Outcome.BytesAdvised > 0
                ? $"Only the part still mapped as read was advised; {Display.Bytes(range.ChangedBytes)} changed since the read and were not sent: {changed}."
                : $"The range changed since it was read and was not sent: {changed}.";
        }
        else if (range.Outcome.Errno != 0)
        {
            result.Status = AdviceStatus.Failed;
            result.Error = KernelError.NameOf(range.Outcome.Errno);
            result.Reason = FailureText.Range(advice, range.Outcome.Errno);
        }
        else if (!range.Outcome.Sent)
        {
            result.Status = AdviceStatus.NotSent;
            result.Reason = "The pipeline was stopped before this range was sent.";
        }
        else
        {
            result.Status = AdviceStatus.Advised;
        }

        return result;
    }

    public static ErrorRecord RangeChanged(AdviceResult result) =>
        new(
            new System.InvalidOperationException(
                $"{result.Start:x}-{result.End:x} of process {result.ProcessId} ({result.ProcessName}) is not what was read. {result.Reason} Read the mappings again."),
            "RangeChanged",
            ErrorCategory.InvalidData,
            result);

    public static ErrorRecord RangeFailed(AdviceResult result, int errno) =>
        new(
            new System.InvalidOperationException(
                $"{result.Advice} failed for {result.Start:x}-{result.End:x} of process {result.ProcessId} ({result.ProcessName}) with {result.Error}: {result.Reason}" +
                (result.BytesAdvised > 0 ? $" {Display.Bytes(result.BytesAdvised)} of it were advised before the failure." : "")),
            "RangeAdviceFailed",
            ErrorRecords.CategoryOf(errno),
            result);
}
