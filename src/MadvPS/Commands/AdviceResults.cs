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
        };

        if (range.SkipReason is not null)
        {
            result.Status = AdviceStatus.Skipped;
            result.Reason = range.SkipReason;
        }
        else if (range.Outcome.Errno != 0)
        {
            result.Status = AdviceStatus.Failed;
            result.Error = Interop.LinuxErrorException.NameOf(range.Outcome.Errno);
            result.Reason = ErrorRecords.ExplainRange(advice, range.Outcome.Errno);
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

    public static ErrorRecord RangeFailed(AdviceResult result, int errno) =>
        new(
            new System.InvalidOperationException(
                $"{result.Advice} failed for {result.Start:x}-{result.End:x} of process {result.ProcessId} ({result.ProcessName}) with {result.Error}: {result.Reason}" +
                (result.BytesAdvised > 0 ? $" {Display.Bytes(result.BytesAdvised)} of it were advised before the failure." : "")),
            "RangeAdviceFailed",
            ErrorRecords.CategoryOf(errno),
            result);
}
