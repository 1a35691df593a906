using System;
using System.IO;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>An object read on another host or boot never reaches a process here, and the error says where it came from.</summary>
[Trait("Needs", "Process")]
public class IdentityTests
{
    [Fact]
    public void AnotherBootIsRefusedNamingBothBootsAndTheHost()
    {
        const string other = "5b0c2e9a-0000-4000-8000-000000000001";
        var e = Assert.Throws<ProcessAccessException>(() => ProcessHandle.Open(Environment.ProcessId, null, other, "web1"));
        Assert.Equal(ProcessAccessFailure.IdentityChanged, e.Failure);
        Assert.Equal(IdentityCheck.BootId, e.Mismatch);
        Assert.Equal(other, e.Expected);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), e.Found);
        Assert.Equal("web1", e.ReadOn);
        string text = FailureText.Of(e);
        Assert.Contains($"read on web1 in boot {other}", text);
        Assert.Contains(e.Found!, text);
        Assert.Contains("Nothing was advised", text);
    }

    [Fact]
    public void AnEmptyBootIdIsRefused()
    {
        var e = Assert.Throws<ProcessAccessException>(() => ProcessHandle.Open(Environment.ProcessId, null, "", null));
        Assert.Equal(ProcessAccessFailure.IdentityChanged, e.Failure);
        Assert.Equal(IdentityCheck.BootId, e.Mismatch);
        Assert.Equal("", e.Expected);
        Assert.Contains("empty BootId", FailureText.Of(e));
    }

    [Fact]
    public void ThisBootInAnyCaseIsAccepted()
    {
        using ProcessHandle handle = ProcessHandle.Open(Environment.ProcessId, null, ProcessIdentity.CurrentBootId.ToUpperInvariant(), "web1");
        Assert.Equal(Environment.ProcessId, handle.ProcessId);
    }
}
