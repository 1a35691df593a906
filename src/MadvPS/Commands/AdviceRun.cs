using System;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Runs a plan from a cmdlet: -Verbose for each call, progress when the work is long.</summary>
internal static class AdviceRun
{
    private const int ProgressThreshold = 4096;

    public static void Execute(PSCmdlet cmdlet, AdvicePlan plan, ProcessHandle handle, Func<bool> stopping) =>
        Execute<bool>(cmdlet, plan, handle, stopping, (stop, onCall, progress) =>
        {
            plan.Execute(handle, stop, onCall, progress);
            return true;
        });

    /// <summary>Runs <paramref name="execute"/> (the plan's or a run's) with -Verbose per call and progress.</summary>
    public static T Execute<T>(PSCmdlet cmdlet, AdvicePlan plan, ProcessHandle handle, Func<bool> stopping, Func<Func<bool>, Action<AdviceCall>?, Action<int, int>?, T> execute)
    {
        var progress = new ProgressRecord(1, $"{plan.Advice} on process {handle.ProcessId}", "Advising ranges");
        bool showProgress = plan.RangesToSend >= ProgressThreshold;
        T result = execute(
            stopping,
            call => cmdlet.WriteVerbose(
                $"process_madvise(pidfd of {handle.ProcessId}, {call.Ranges} range(s), {plan.Advice}): {Display.Bytes(call.BytesRequested)} requested, " +
                (call.Result >= 0 ? $"{Display.Bytes(call.Result)} advised" : $"-1 {KernelError.NameOf(call.Errno)}")),
            showProgress
                ? (done, total) =>
                {
                    progress.PercentComplete = (int)(100L * done / Math.Max(total, 1));
                    progress.StatusDescription = $"{done} of {total} ranges";
                    cmdlet.WriteProgress(progress);
                }
        : null);

        if (showProgress)
        {
            progress.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(progress);
        }

        return result;
    }
}
