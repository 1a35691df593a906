using System;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Writes one self-contained HTML page that draws what the module's cmdlets wrote (live or
/// deserialized): each process's address space, where its memory is, its access over time and the
/// effect of advice. Like Export-Csv and Out-File, it writes nothing to the pipeline but the file
/// with -PassThru.
/// </summary>
[Cmdlet(VerbsData.Export, "MemoryMap", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMemoryMapCommand : PSCmdlet
{
    internal const string PathSet = "Path";
    internal const string LiteralPathSet = "LiteralPath";
    private const int ProgressId = 1;
    private const string Activity = "Export-MemoryMap";

    private readonly MemoryMapBuilder _builder = new();
    private readonly Stopwatch _progressClock = new();
    private string _path = "";
    private long _read;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string LiteralPath { get; set; } = "";

    /// <summary>What to draw: MemoryMapping, MemoryAccess, ProcessMemory, ProcessAccess, AdviceResult, ProcessAdviceResult, MemoryPageRun, MemoryPageSummary (live or deserialized).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter]
    [ValidateNotNull]
    public string Title { get; set; } = "Memory map";

    [Parameter]
    [Alias("NoOverwrite")]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Overwrites a read-only file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        _path = ResolvePath();
        string? directory = System.IO.Path.GetDirectoryName(_path);
        if (Directory.Exists(_path))
        {
            ThrowTerminatingError(new ErrorRecord(new IOException($"'{_path}' is a directory. Name a file to write the memory map to, for example {System.IO.Path.Combine(_path, "memory-map.html")}."),
                "PathIsDirectory", ErrorCategory.InvalidArgument, _path));
        }

        if (directory is not null && !Directory.Exists(directory))
        {
            ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException($"Cannot write '{_path}': the directory '{directory}' does not exist. Create it first, or name a file in a directory that exists."),
                "DirectoryNotFound", ErrorCategory.ObjectNotFound, _path));
        }

        if (NoClobber && File.Exists(_path))
        {
            ThrowTerminatingError(new ErrorRecord(new IOException($"The file '{_path}' already exists and -NoClobber keeps it. Name another file, or leave out -NoClobber to overwrite it."),
                "NoClobber", ErrorCategory.ResourceExists, _path));
        }

        _progressClock.Start();
    }

    protected override void ProcessRecord()
    {
        if (InputObject is null)
        {
            return;
        }

        try
        {
            if (!MemoryMapInput.Add(_builder, InputObject))
            {
                string type = InputObject.TypeNames.Count > 0 ? InputObject.TypeNames[0] : InputObject.BaseObject.GetType().FullName ?? "object";
                WriteError(new ErrorRecord(
                    new ArgumentException($"Export-MemoryMap cannot draw a {type}: it draws MadvPS's {string.Join(", ", MemoryMapInput.Drawn)} objects, live or deserialized. This one is left out; the rest is drawn."),
                    "InputNotDrawable", ErrorCategory.InvalidType, InputObject));
            }
        }
        catch (InvalidCastException e)
        {
            WriteError(new ErrorRecord(
                new ArgumentException($"Export-MemoryMap cannot draw this {MemoryMapInput.Recognize(InputObject)}: {e.Message} It is left out and the rest is drawn.", e),
                "InputNotReadable", ErrorCategory.InvalidData, InputObject));
        }

        _read++;
        if (_progressClock.ElapsedMilliseconds >= 250)
        {
            _progressClock.Restart();
            WriteProgress(new ProgressRecord(ProgressId, Activity, $"{_read} objects read") { CurrentOperation = _path });
        }
    }

    protected override void EndProcessing()
    {
        if (!ShouldProcess(_path, "Write the memory map"))
        {
            return;
        }

        WriteProgress(new ProgressRecord(ProgressId, Activity, $"Drawing {_read} objects") { CurrentOperation = _path });
        var processes = _builder.Build();
        try
        {
            if (Force && !OperatingSystem.IsWindows() && File.Exists(_path) && (File.GetUnixFileMode(_path) & UnixFileMode.UserWrite) == 0)
            {
                File.SetUnixFileMode(_path, File.GetUnixFileMode(_path) | UnixFileMode.UserWrite);
            }

            using (var stream = new FileStream(_path, NoClobber ? FileMode.CreateNew : FileMode.Create, FileAccess.Write, FileShare.Read))
            {
                string version = typeof(ExportMemoryMapCommand).Assembly.GetName().Version?.ToString(3) ?? "";
                MemoryMapPage.Write(stream, Title, DateTime.UtcNow, version, processes);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(WriteFailed(e));
        }
        finally
        {
            WriteProgress(new ProgressRecord(ProgressId, Activity, "Done") { RecordType = ProgressRecordType.Completed });
        }

        WriteVerbose($"Wrote the memory map of {processes.Count} process(es) to {_path}.");
        if (PassThru)
        {
            WriteObject(new FileInfo(_path));
        }
    }

    private ErrorRecord WriteFailed(Exception e) => e switch
    {
        UnauthorizedAccessException => new ErrorRecord(new UnauthorizedAccessException($"Cannot write '{_path}': permission denied. Name a file in a directory you may write to{(File.Exists(_path) ? ", or use -Force for a read-only file" : "")}.", e),
            "FileNotWritable", ErrorCategory.PermissionDenied, _path),
        IOException when NoClobber && File.Exists(_path) => new ErrorRecord(new IOException($"The file '{_path}' already exists and -NoClobber keeps it. Name another file, or leave out -NoClobber to overwrite it.", e),
            "NoClobber", ErrorCategory.ResourceExists, _path),
        _ => new ErrorRecord(new IOException($"Cannot write '{_path}': {e.Message}", e), "FileNotWritable", ErrorCategory.WriteError, _path),
    };

    /// <summary>-Path: a wildcard that matches exactly one existing file names it; otherwise, and for -LiteralPath, the path as typed.</summary>
    private string ResolvePath()
    {
        ProviderInfo provider;
        string path;
        if (ParameterSetName == PathSet && WildcardPattern.ContainsWildcardCharacters(Path))
        {
            Collection<string> matches;
            try
            {
                matches = GetResolvedProviderPathFromPSPath(Path, out provider);
            }
            catch (ItemNotFoundException)
            {
                matches = new Collection<string>();
                provider = SessionState.Provider.GetOne("FileSystem");
            }

            if (matches.Count > 1)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{Path}' matches {matches.Count} files; name one file (use -LiteralPath for a name with wildcard characters)."),
                    "PathAmbiguous", ErrorCategory.InvalidArgument, Path));
            }

            path = matches.Count == 1 ? matches[0] : GetUnresolvedProviderPathFromPSPath(Path);
        }
        else
        {
            path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ParameterSetName == PathSet ? Path : LiteralPath, out provider, out _);
        }

        if (provider.Name != "FileSystem")
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{path}' is not in the file system (it is in the {provider.Name} provider). Name a file."),
                "PathNotFileSystem", ErrorCategory.InvalidArgument, path));
        }

        return path;
    }
}
