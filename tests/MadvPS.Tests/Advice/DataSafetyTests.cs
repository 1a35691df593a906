using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Security;
using MadvPS.Commands;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>Tests that count process_madvise calls run alone: the counter is the process's.</summary>
[CollectionDefinition(nameof(ProcessMadviseCounter), DisableParallelization = true)]
public sealed class ProcessMadviseCounter
{
}

/// <summary>
/// Advice that destroys data, given through Invoke-MemoryAdvice in a hosted runspace whose host
/// answers the confirmation prompt: on this process it needs -Force and a yes, -WhatIf sends
/// nothing, and another process never receives it. The range is a mapping of this test process,
/// filled with a pattern, so that lost data shows.
/// </summary>
[Collection(nameof(ProcessMadviseCounter))]
[Trait("Needs", "Process")]
public sealed partial class DataSafetyTests : IDisposable
{
    private const int Length = 64 * 1024;
    private const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;

    private readonly IntPtr _region;

    public DataSafetyTests()
    {
        _region = mmap(IntPtr.Zero, Length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        Assert.NotEqual(new IntPtr(-1), _region);
        for (int i = 0; i < Length; i += sizeof(long))
        {
            Marshal.WriteInt64(_region, i, Pattern(i));
        }
    }

    public void Dispose() => munmap(_region, Length);

    /// <summary>The kernel's is_discard() list (mm/madvise.c), and HwPoison: AdviceFacts.DestroysData.</summary>
    private static readonly MemoryAdvice[] s_destructive =
    {
        MemoryAdvice.DontNeed, MemoryAdvice.Free, MemoryAdvice.Remove, MemoryAdvice.DontFork,
        MemoryAdvice.WipeOnFork, MemoryAdvice.GuardInstall, MemoryAdvice.DontNeedLocked, MemoryAdvice.HwPoison,
    };

    public static TheoryData<MemoryAdvice> Destructive() => new(s_destructive);

    [Fact]
    public void TheListIsEveryAdviceTheModuleSaysDestroysData()
    {
        var listed = s_destructive.OrderBy(a => a);
        var facts = Core.AdviceFacts.All.Where(f => f.DestroysData).Select(f => f.Advice).OrderBy(a => a);
        Assert.Equal(facts, listed);
    }

    [Theory]
    [MemberData(nameof(Destructive))]
    public void OnThisProcessWithoutForceItIsRefusedAndNothingIsSent(MemoryAdvice advice)
    {
        Outcome o = Run(advice, Environment.ProcessId, force: false, whatIf: false, answer: "Yes");
        Assert.Equal(new[] { "DestructiveAdviceNeedsForce,MadvPS.Commands.InvokeMemoryAdviceCommand" }, o.Errors);
        Assert.Contains("-Force", o.Messages[0]);
        Assert.Empty(o.Prompts);
        Assert.Equal(0, o.Calls);
        AssertIntact();
    }

    [Theory]
    [MemberData(nameof(Destructive))]
    public void OnThisProcessWithForceItAsksAndANoSendsNothing(MemoryAdvice advice)
    {
        Outcome o = Run(advice, Environment.ProcessId, force: true, whatIf: false, answer: "No");
        Assert.Empty(o.Errors);
        string prompt = Assert.Single(o.Prompts);
        Assert.Contains(advice.ToString(), prompt);
        Assert.Contains("destroys", prompt);
        Assert.Equal(0, o.Calls);
        AssertIntact();
    }

    [Theory]
    [MemberData(nameof(Destructive))]
    public void WhatIfAsksNothingAndSendsNothing(MemoryAdvice advice)
    {
        Outcome o = Run(advice, Environment.ProcessId, force: true, whatIf: true, answer: "Yes");
        Assert.Empty(o.Errors);
        Assert.Empty(o.Prompts);
        Assert.Contains(o.Lines, l => l.StartsWith("What if:", StringComparison.Ordinal) && l.Contains(advice.ToString()));
        Assert.Equal(0, o.Calls);
        AssertIntact();
    }

    [Theory]
    [MemberData(nameof(Destructive))]
    public void AnotherProcessNeverReceivesItEvenWithForceAndNoConfirmation(MemoryAdvice advice)
    {
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            Outcome o = Run(advice, other.Id, force: true, whatIf: false, answer: "Yes", confirm: false);
            Assert.Equal(new[] { "AdviceNotAllowedForOtherProcess,MadvPS.Commands.InvokeMemoryAdviceCommand" }, o.Errors);
            Assert.Contains("Nothing was sent", o.Messages[0]);
            Assert.Empty(o.Prompts);
            Assert.Equal(0, o.Calls);
        }
        finally
        {
            other.Kill();
        }
    }

    /// <summary>The control: the same path with a yes sends the advice, and the data goes. So the
    /// tests above would see a call or a loss if there were one.</summary>
    [Fact]
    public void DontNeedOnThisProcessWithForceAndAYesIsSentAndTheDataGoes()
    {
        Outcome o = Run(MemoryAdvice.DontNeed, Environment.ProcessId, force: true, whatIf: false, answer: "Yes");
        Assert.Empty(o.Errors);
        Assert.Single(o.Prompts);
        Assert.True(o.Calls >= 1);
        // MADV_DONTNEED on private anonymous memory: it reads back as zeros.
        for (int i = 0; i < Length; i += 4096)
        {
            Assert.Equal(0, Marshal.ReadInt64(_region, i));
        }
    }

    private sealed record Outcome(string[] Errors, string[] Messages, List<string> Prompts, List<string> Lines, long Calls);

    private Outcome Run(MemoryAdvice advice, int processId, bool force, bool whatIf, string answer, bool? confirm = null)
    {
        var host = new AnsweringHost(answer);
        // An empty session with the one cmdlet: quick to open, and nothing else answers.
        InitialSessionState state = InitialSessionState.Create();
        state.Commands.Add(new SessionStateCmdletEntry("Invoke-MemoryAdvice", typeof(InvokeMemoryAdviceCommand), null));
        using Runspace runspace = RunspaceFactory.CreateRunspace(host, state);
        runspace.Open();
        using PowerShell shell = PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddCommand("Invoke-MemoryAdvice")
            .AddParameter("Id", processId)
            .AddParameter("Address", (ulong)_region)
            .AddParameter("Length", (long)Length)
            .AddParameter("Advice", advice);
        if (force) shell.AddParameter("Force");
        if (whatIf) shell.AddParameter("WhatIf");
        if (confirm is bool c) shell.AddParameter("Confirm", c);

        long before = Libc.ProcessMadviseCalls;
        shell.Invoke();
        long calls = Libc.ProcessMadviseCalls - before;
        return new Outcome(
            shell.Streams.Error.Select(e => e.FullyQualifiedErrorId).ToArray(),
            shell.Streams.Error.Select(e => e.Exception.Message).ToArray(),
            host.Ui.Prompts,
            host.Ui.Lines,
            calls);
    }

    private void AssertIntact()
    {
        for (int i = 0; i < Length; i += sizeof(long))
        {
            Assert.Equal(Pattern(i), Marshal.ReadInt64(_region, i));
        }
    }

    private static long Pattern(int offset) => unchecked(offset * (long)0x9E3779B97F4A7C15UL) | 1;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial IntPtr mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc.so.6")]
    private static partial int munmap(IntPtr address, nuint length);

    /// <summary>A host whose user answers every choice with the one given, and that keeps what it was told.</summary>
    private sealed class AnsweringHost : PSHost
    {
        public AnsweringHost(string answer) => Ui = new AnsweringUserInterface(answer);

        public AnsweringUserInterface Ui { get; }
        public override PSHostUserInterface UI => Ui;
        public override string Name => "MadvPS.Tests";
        public override Version Version => new(1, 0);
        public override Guid InstanceId { get; } = Guid.NewGuid();
        public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
        public override void EnterNestedPrompt() => throw new NotSupportedException();
        public override void ExitNestedPrompt() => throw new NotSupportedException();
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) { }
    }

    private sealed class AnsweringUserInterface : PSHostUserInterface
    {
        private readonly string _answer;

        public AnsweringUserInterface(string answer) => _answer = answer;

        public List<string> Prompts { get; } = new();
        public List<string> Lines { get; } = new();

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Prompts.Add($"{caption}: {message}");
            int index = choices.ToList().FindIndex(c => c.Label.Replace("&", "", StringComparison.Ordinal) == _answer);
            return index >= 0 ? index : throw new InvalidOperationException($"No choice '{_answer}' in {string.Join(", ", choices.Select(c => c.Label))}.");
        }

        public override PSHostRawUserInterface? RawUI => null;
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
        public override string ReadLine() => throw new NotSupportedException();
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();
        public override void Write(string value) => Lines.Add(value);
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Lines.Add(value);
        public override void WriteLine(string value) => Lines.Add(value);
        public override void WriteErrorLine(string value) => Lines.Add(value);
        public override void WriteDebugLine(string message) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) => Lines.Add(message);
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
    }
}
