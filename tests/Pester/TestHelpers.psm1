# Helpers for the Pester suites: the project's target program, started and stopped by the tests.
Set-StrictMode -Version 3.0

class TestTarget {
    [System.Diagnostics.Process] $Process
    [hashtable] $Regions = @{}
    [int] $Id
    [string] $LinkFolder

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
        if ($this.LinkFolder) { Remove-Item -Recurse -Force $this.LinkFolder -ErrorAction SilentlyContinue }
    }
}

function Start-TestTarget {
    <#
    .SYNOPSIS
        Starts the target program with the given regions and waits until it has mapped them.
    .EXAMPLE
        $t = Start-TestTarget -AnonMiB 32 -FileMiB 16
    .PARAMETER ProcessName
        Runs the target through a symbolic link of that name (at most 15 characters) to dotnet, so
        that the kernel's comm, and Get-Process's name, is that name and no other process's.
    #>
    param(
        [long] $AnonMiB, [long] $FileMiB, [long] $SharedFileMiB, [long] $MemfdMiB,
        [long] $LockedMiB, [long] $HugeMiB, [long] $ReserveMiB, [int] $Mappings,
        [string] $User, [string] $ProcessName
    )
    $dll = $env:MADVPS_TARGET
    if (-not $dll -or -not (Test-Path $dll)) { throw 'MADVPS_TARGET does not name the built target program: run the tests through build.ps1 Test.' }
    $arguments = [System.Collections.Generic.List[string]]::new()
    foreach ($option in @{ 'anon-mib' = $AnonMiB; 'file-mib' = $FileMiB; 'shared-file-mib' = $SharedFileMiB; 'memfd-mib' = $MemfdMiB; 'locked-mib' = $LockedMiB; 'huge-mib' = $HugeMiB; 'reserve-mib' = $ReserveMiB; 'mappings' = $Mappings }.GetEnumerator()) {
        if ($option.Value -gt 0) { $arguments.Add("--$($option.Key)"); $arguments.Add([string]$option.Value) }
    }
    $dotnet = [Environment]::ProcessPath
    $linkFolder = $null
    if ($ProcessName) {
        $linkFolder = Join-Path '/var/tmp' "madvps-exec-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $linkFolder | Out-Null
        $dotnet = Join-Path $linkFolder $ProcessName
        New-Item -ItemType SymbolicLink -Path $dotnet -Target ([Environment]::ProcessPath) | Out-Null
    }
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
    $target.LinkFolder = $linkFolder
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
        Adds a swap file of the test's own (root only); returns its path, or $null if it cannot.
    .DESCRIPTION
        On every path that does not return the path, no swap of the test's is on and its file is
        gone. Pair it with Disable-TestSwap in a finally block or AfterAll.
    #>
    param([int] $MiB = 256)
    if ((id -u) -ne 0) { return $null }
    $path = "/var/tmp/madvps-test-swap-$PID"
    try {
        & fallocate -l "$($MiB)M" $path 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { & dd if=/dev/zero of=$path bs=1M count=$MiB status=none }
        & chmod 600 $path
        & mkswap $path 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { Remove-Item -Force $path -ErrorAction SilentlyContinue; return $null }
        & swapon $path 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { Remove-Item -Force $path -ErrorAction SilentlyContinue; return $null }
    }
    catch {
        Disable-TestSwap $path
        throw
    }
    $path
}

function Disable-TestSwap {
    <#
    .SYNOPSIS
        Turns the test's swap file off and deletes it; throws, leaving the file, if swapoff fails
        (an unlinked active swap file would stay on until reboot, out of sight).
    #>
    param([string] $Path)
    if (-not $Path) { return }
    if ((Get-TestSwapList) -contains $Path) {
        $message = & swapoff $Path 2>&1
        if ($LASTEXITCODE -ne 0 -or (Get-TestSwapList) -contains $Path) {
            throw "swapoff $Path failed (exit code $LASTEXITCODE): $message. The swap file was left in place; turn it off with swapoff and delete it."
        }
    }
    Remove-Item -Force $Path -ErrorAction SilentlyContinue
    if (Test-Path $Path) { throw "The swap file $Path could not be deleted." }
}

function Get-TestSwapList {
    # The swap areas in use, by path, as the kernel lists them in /proc/swaps.
    @(Get-Content /proc/swaps | Select-Object -Skip 1 | ForEach-Object { ($_ -split '\s+')[0] } | Where-Object { $_ })
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

function Wait-ProcessState {
    # Waits until /proc/PID/stat shows the state letter (or $Until says stop); returns the last state seen.
    param([int] $Id, [string] $State, [scriptblock] $Until = { $false }, [int] $TimeoutMs = 30000)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while (($seen = Get-ProcessState $Id) -ne $State -and -not (& $Until) -and $clock.ElapsedMilliseconds -lt $TimeoutMs) { }
    $seen
}

function Stop-TestProcess {
    # SIGSTOP, then waits until every thread shows T in /proc/PID/task/TID/stat: a .NET target's
    # runtime maps memory at any time, and only a process stopped whole maps nothing. $true once
    # every thread is stopped; $false after the deadline.
    param([Parameter(Mandatory)] [int] $Id, [int] $TimeoutMs = 30000)
    kill -STOP $Id
    $clock = [Diagnostics.Stopwatch]::StartNew()
    do {
        $running = @([IO.Directory]::GetDirectories("/proc/$Id/task") | Where-Object {
                $stat = try { [IO.File]::ReadAllText("$_/stat") } catch { 'x) T' }
                $stat.Substring($stat.LastIndexOf(')') + 2, 1) -ne 'T'
            })
    } while ($running.Count -gt 0 -and $clock.ElapsedMilliseconds -lt $TimeoutMs)
    $running.Count -eq 0
}

function Get-FreeProcessId {
    # A PID no process or thread holds now: above the highest one in use, below pid_max.
    $max = [int][IO.File]::ReadAllText('/proc/sys/kernel/pid_max').Trim()
    $used = [Collections.Generic.HashSet[int]]::new()
    foreach ($d in [IO.Directory]::EnumerateDirectories('/proc')) { $n = 0; if ([int]::TryParse([IO.Path]::GetFileName($d), [ref]$n)) { $null = $used.Add($n) } }
    for ($candidate = $max - 1; $candidate -gt 300; $candidate--) {
        if (-not $used.Contains($candidate) -and -not (Test-Path "/proc/$candidate")) { return $candidate }
    }
    throw "No free PID below pid_max $max."
}

function Get-KernelThreadId {
    # A kernel thread of this PID namespace (PF_KTHREAD, 0x00200000, in the flags field of
    # /proc/PID/stat), or $null if none is visible (a PID namespace of a container has none).
    foreach ($d in [IO.Directory]::EnumerateDirectories('/proc')) {
        $n = 0
        if (-not [int]::TryParse([IO.Path]::GetFileName($d), [ref]$n)) { continue }
        try { $stat = [IO.File]::ReadAllText("$d/stat") } catch { continue }
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
        # After the command: state is field 3 of stat, flags field 9, so index 6 here.
        if (([long]$fields[6] -band 0x00200000) -ne 0) { return $n }
    }
    $null
}

function Get-KernelVersion {
    # The running kernel's major.minor, from /proc/sys/kernel/osrelease (6.18.44-fc-v669 -> 6.18).
    $release = [IO.File]::ReadAllText('/proc/sys/kernel/osrelease').Trim()
    if ($release -match '^(\d+)\.(\d+)') { return [version]"$($Matches[1]).$($Matches[2])" }
    [version]'0.0'
}

function Get-DiskFolderProblem {
    # $null if the folder is on a file system with a page cache that file advice acts on, else
    # the reason a test should skip (tmpfs and ramfs keep file pages in memory: PageOut and
    # DontNeed of their pages do nothing).
    param([string] $Path = '/var/tmp')
    if (-not (Test-Path $Path)) { return "$Path does not exist" }
    $type = (& stat -f -c %T $Path).Trim()
    if ($type -in 'tmpfs', 'ramfs') { return "$Path is on $type, where file pages cannot be paged out (set MADVPS_TARGET_DIR to a folder on a disk)" }
    $null
}

function Test-CapSysNice {
    # Whether this process has CAP_SYS_NICE (bit 23) in its effective set, from /proc/self/status.
    $line = Get-Content /proc/self/status | Where-Object { $_ -like 'CapEff:*' }
    $mask = [Convert]::ToUInt64(($line -split '\s+')[1], 16)
    ($mask -band (1L -shl 23)) -ne 0
}

# Runs a program to its end in a folder, with an environment changed by -Environment (a $null value
# removes a variable), and gives its exit code, standard output and standard error.
function Invoke-Captured {
    param([Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList = @(), [string] $WorkingDirectory, [hashtable] $Environment = @{})
    $info = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
    if ($WorkingDirectory) { $info.WorkingDirectory = $WorkingDirectory }
    foreach ($e in $Environment.GetEnumerator()) {
        if ($null -eq $e.Value) { $info.Environment.Remove($e.Key) | Out-Null } else { $info.Environment[$e.Key] = $e.Value }
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEnd()
    $process.WaitForExit()
    [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.Result; Error = $stderr; Text = "exit $($process.ExitCode): $($stdout.Result) $stderr" }
}

Export-ModuleMember -Function Invoke-Captured, Start-TestTarget, Stop-TestProcess, Get-TargetMapping, Enable-TestSwap, Disable-TestSwap, Get-TestSwapList, Get-ProcessState, Wait-ProcessState, Get-FreeProcessId, Get-KernelThreadId, Test-CapSysNice, Get-KernelVersion, Get-DiskFolderProblem
