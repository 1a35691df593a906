# Helpers for the Pester suites: the project's target program, started and stopped by the tests.
Set-StrictMode -Version 3.0

class TestTarget {
    [System.Diagnostics.Process] $Process
    [hashtable] $Regions = @{}
    [int] $Id

    [string] Send([string] $command) {
        $this.Process.StandardInput.WriteLine($command)
        $this.Process.StandardInput.Flush()
        $line = $this.Process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The target exited while answering '$command'." }
        if ($line.StartsWith('error ')) { throw "The target answered '$line' to '$command'." }
        return $line
    }

    [string] Checksum([string] $region) { return ($this.Send("checksum $region") -split ' ')[1] }
    [long] Resident([string] $region) { return [long](($this.Send("resident $region") -split ' ')[1]) }
    [object] Region([string] $name) { return $this.Regions[$name] }

    [void] Stop() {
        if (-not $this.Process.HasExited) {
            try { $this.Process.StandardInput.WriteLine('exit'); $this.Process.StandardInput.Flush() } catch { }
            if (-not $this.Process.WaitForExit(5000)) { $this.Process.Kill() }
        }
        $this.Process.Dispose()
    }
}

function Start-TestTarget {
    <#
    .SYNOPSIS
        Starts the target program with the given regions and waits until it has mapped them.
    .EXAMPLE
        $t = Start-TestTarget -AnonMiB 32 -FileMiB 16
    #>
    param(
        [long] $AnonMiB, [long] $FileMiB, [long] $SharedFileMiB, [long] $MemfdMiB,
        [long] $LockedMiB, [long] $HugeMiB, [long] $ReserveMiB, [int] $Mappings,
        [string] $User
    )
    $dll = $env:MADVPS_TARGET
    if (-not $dll -or -not (Test-Path $dll)) { throw 'MADVPS_TARGET does not name the built target program: run the tests through build.ps1 Test.' }
    $arguments = [System.Collections.Generic.List[string]]::new()
    foreach ($option in @{ 'anon-mib' = $AnonMiB; 'file-mib' = $FileMiB; 'shared-file-mib' = $SharedFileMiB; 'memfd-mib' = $MemfdMiB; 'locked-mib' = $LockedMiB; 'huge-mib' = $HugeMiB; 'reserve-mib' = $ReserveMiB; 'mappings' = $Mappings }.GetEnumerator()) {
        if ($option.Value -gt 0) { $arguments.Add("--$($option.Key)"); $arguments.Add([string]$option.Value) }
    }
    $dotnet = [Environment]::ProcessPath
    $info = [System.Diagnostics.ProcessStartInfo]::new()
    if ($User) {
        $info.FileName = 'setpriv'
        foreach ($a in @('--reuid', $User, '--regid', $User, '--clear-groups', '--', $dotnet, $dll)) { $info.ArgumentList.Add($a) }
        $info.Environment['DOTNET_CLI_HOME'] = '/tmp'
        $info.Environment['HOME'] = '/tmp'
    }
    else {
        $info.FileName = $dotnet
        $info.ArgumentList.Add($dll)
    }
    foreach ($a in $arguments) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $target = [TestTarget]::new()
    $target.Process = [System.Diagnostics.Process]::Start($info)
    $target.Id = $target.Process.Id
    while ($true) {
        $line = $target.Process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The target program exited before it was ready (exit code $($target.Process.ExitCode))." }
        if ($line -eq 'ready') { break }
        $words = $line -split ' '
        if ($words[0] -eq 'region') {
            $start = [Convert]::ToUInt64($words[2].Substring(2), 16)
            $target.Regions[$words[1]] = [pscustomobject]@{ Name = $words[1]; Start = $start; Length = [long]$words[3]; End = $start + [ulong]$words[3] }
        }
    }
    $target
}

function Enable-TestSwap {
    <#
    .SYNOPSIS
        Adds a swap file of the test's own (root only); returns its path, or $null with the reason in -Because.
    #>
    param([int] $MiB = 256)
    if ((id -u) -ne 0) { return $null }
    $path = "/var/tmp/madvps-test-swap-$PID"
    & fallocate -l "$($MiB)M" $path 2>&1 | Out-Null
    if ($LASTEXITCODE -ne 0) { & dd if=/dev/zero of=$path bs=1M count=$MiB status=none }
    & chmod 600 $path
    & mkswap $path 2>&1 | Out-Null
    & swapon $path 2>&1 | Out-Null
    if ($LASTEXITCODE -ne 0) { Remove-Item -Force $path -ErrorAction SilentlyContinue; return $null }
    $path
}

function Disable-TestSwap {
    param([string] $Path)
    if (-not $Path) { return }
    & swapoff $Path 2>&1 | Out-Null
    Remove-Item -Force $Path -ErrorAction SilentlyContinue
}

function Get-ProcessState {
    # The state letter of /proc/PID/stat (R, S, T, ...).
    param([int] $Id)
    $stat = Get-Content -Raw "/proc/$Id/stat"
    $stat.Substring($stat.LastIndexOf(')') + 2, 1)
}

function Get-TargetMapping {
    # The mappings of a target region (a region may span several VMAs).
    param([Parameter(Mandatory)] $Target, [Parameter(Mandatory)] [string] $Region)
    $r = $Target.Region($Region)
    Get-MemoryMapping -Id $Target.Id | Where-Object { $_.Start -lt $r.End -and $_.End -gt $r.Start }
}

Export-ModuleMember -Function Start-TestTarget, Get-TargetMapping, Enable-TestSwap, Disable-TestSwap, Get-ProcessState
