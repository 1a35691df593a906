using System;
using System.Diagnostics;
using System.Management.Automation;

namespace MadvPS.Commands;

/// <summary>
/// The -Id, -Name and -InputObject parameters that every cmdlet taking processes shares, with
/// their completers, as PowerShell's ProcessBaseCommand holds them for Get-, Stop- and Wait-Process.
/// A thread ID given to -Id means its process. -Id takes numbers from the pipeline
/// (<c>$PID | Get-MemoryMapping</c>) and ProcessId by property name; -InputObject takes Process objects.
/// </summary>
public abstract class ProcessCommandBase : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ProcessSelector.IdSet)]
    [Alias("ProcessId", "PID")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter(Mandatory = true, ParameterSetName = ProcessSelector.NameSet)]
    [Alias("ProcessName")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProcessNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ProcessSelector.InputObjectSet)]
    public Process[] InputObject { get; set; } = Array.Empty<Process>();
}
