using System;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class ProcessStatTests
{
    [Fact]
    public void TheCommandMayHoldSpacesAndParentheses()
    {
        string text = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 100 18446744073709551615";
        ProcessStat stat = ProcessStat.Parse(1234, text);
        Assert.Equal("my (odd) name", stat.Command);
        Assert.Equal('S', stat.State);
        Assert.Equal(987654UL, stat.StartTime);
    }

    [Fact]
    public void ReadsThisProcess()
    {
        ProcessStat? stat = ProcessStat.TryRead(Environment.ProcessId);
        Assert.NotNull(stat);
        Assert.True(stat!.Value.StartTime > 0);
        Assert.Null(ProcessStat.TryRead(int.MaxValue));
    }

    [Theory]
    [InlineData("6.18.44-fc-v782", 6, 18, 44)]
    [InlineData("5.10.0-28-amd64", 5, 10, 0)]
    [InlineData("6.1", 6, 1, 0)]
    public void ParsesKernelReleases(string release, int major, int minor, int patch)
    {
        Assert.Equal(new Version(major, minor, patch), KernelInfo.ParseRelease(release));
    }
}
