using System;
using System.Diagnostics;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Advises a whole process, or its anonymous or file-backed part, in one go, the way Android's
/// system server compacts idle apps; reports RSS and Swap before and after.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ProcessMadvise", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ProcessSelector.IdSet)]
[OutputType(typeof(ProcessAdviceResult))]
public sealed class SetProcessMadviseCommand : PSCmdlet
{
    private volatile bool _stopping;
    private volatile ProcessHandle? _current;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProcessSelector.IdSet)]
    [Alias("ProcessId", "PID")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter(Mandatory = true, ParameterSetName = ProcessSelector.NameSet)]
    [Alias("ProcessName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProcessNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ProcessSelector.InputObjectSet)]
    public Process[] InputObject { get; set; } = Array.Empty<Process>();

    /// <summary>Only the advices the kernel accepts for another process: Cold, PageOut, WillNeed, Collapse.</summary>
    [Parameter(Mandatory = true)]
    [AdviceTransformation]
    [ValidateOtherProcessAdvice]
    [ArgumentCompleter(typeof(OtherProcessAdviceCompleter))]
    public string Advice { get => _advice.ToString(); set => _advice = AdviceTransformationAttribute.Parse(value); }

    /// <summary>-Advice as the enum: what the object model and the kernel calls use.</summary>
    private MemoryAdvice _advice;

    [Parameter]
    public MappingSelection MappingType { get; set; } = MappingSelection.All;

    /// <summary>Stops the process (SIGSTOP) from the reading of its mappings until the advice is done.</summary>
    [Parameter]
    public SwitchParameter Freeze { get; set; }

    /// <summary>The longest a -Freeze may last: the process is resumed then, whatever the cmdlet is doing.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan FreezeTimeout { get; set; } = FreezeRequest.DefaultMaxLength;

    protected override void BeginProcessing() => Freezing.ValidateTimeout(this, FreezeTimeout);

    protected override void ProcessRecord()
    {
        foreach ((int id, object target, bool foundByName) in ProcessSelector.Selected(this, Id, Name, InputObject))
        {
            AdviseProcess(id, target, foundByName);
        }
    }

    protected override void StopProcessing()
    {
        _stopping = true;
        _current?.Resume();
    }

    private void AdviseProcess(int processId, object target, bool foundByName = false)
    {
        if (_stopping)
        {
            return;
        }

        if (!AdviceFacts.AllowedForOtherProcess(_advice, KernelInfo.Version))
        {
            WriteError(ErrorRecords.AdviceNotAllowedForOtherProcess(_advice, processId, target));
            return;
        }

        try
        {
            // -WhatIf changes nothing, so it does not stop the process either.
            FreezeRequest? freeze = Freeze && !Freezing.IsWhatIf(this) ? new FreezeRequest(FreezeTimeout, FreezeRequest.DefaultStopDeadline) : null;
            using ProcessAdviceRun run = ProcessAdviceRun.Prepare(processId, _advice, MappingType, freeze, () => _stopping);
            _current = run.Handle;
            try
            {
                if (run.Stopped)
                {
                    // Ctrl+C: StopProcessing has resumed the process; the listing was left part way.
                    return;
                }

                Freezing.WarnIfNotFrozen(this, run.Freeze, processId, run.ProcessName);
                AdvicePlan plan = run.Plan;
                WriteVerbose(run.Source == MappingSource.Maps
                    ? $"Listed the mappings of process {processId} from /proc/{processId}/maps: no selected mapping can carry a VmFlag that makes {_advice} skip it."
                    : $"Listed the mappings of process {processId} from /proc/{processId}/smaps, for the VmFlags of each: {run.SmapsReason}.");

                if (!ShouldProcess($"process {processId} ({run.ProcessName})", $"{_advice} on the {MappingType} mappings: {plan.RangesToSend} range(s), {Display.Bytes(plan.BytesToSend)}: {run.Forecast?.Describe(_advice)}"))
                {
                    return;
                }

                ProcessAdviceResult result = AdviceRun.Execute(this, plan, run.Handle, () => _stopping, run.Execute);
                foreach (PlannedRange range in plan.Ranges)
                {
                    if (range.SkipReason is not null)
                    {
                        WriteVerbose($"Skipped {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {range.SkipReason}");
                    }
                    else if (range.Outcome.Errno != 0)
                    {
                        WriteVerbose($"Failed {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {KernelError.NameOf(range.Outcome.Errno)}, {ErrorRecords.ExplainRange(_advice, range.Outcome.Errno)}");
                    }
                }

                WriteObject(result);
            }
            finally
            {
                _current = null;
            }
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.NotFound or ProcessAccessFailure.Exited && ProcessStat.TryRead(processId) is not { State: not ('Z' or 'X') })
        {
            // Found by name and gone (or a zombie) since: a short-lived process of that name, not an error.
            WriteVerbose($"Process {processId} exited before it could be advised.");
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ProcessAdviceException e)
        {
            WriteError(ErrorRecords.ForWholeCall(e, _advice, processId, target));
        }
        catch (SmapsFormatException e)
        {
            WriteError(ErrorRecords.ForFormat(e, processId));
        }
    }
}
