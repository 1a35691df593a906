#Requires -Version 7.4
<#
.SYNOPSIS
    Pages out the memory of the named processes on many hosts over SSH, and returns one row per
    host: reached or not (with the error, naming the host), processes matched, bytes reclaimed,
    duration.
.DESCRIPTION
    Opens one PowerShell session per host over SSH (New-PSSession -HostName), runs
    Set-ProcessMadvise on the processes named -ProcessName there, ThrottleLimit hosts at a time
    (Invoke-Command -Session -ThrottleLimit: Invoke-Command -HostName has no throttle), closes the
    sessions and writes one row per host of the list, in its order. Hosts that could not be
    reached and hosts where no process matched are in the table too, so nothing is left out
    silently: a failed host has Reached $false and an Error that names it and says what was found
    (nothing listening, no answer, or a port that answers but a session that would not open:
    authentication or the powershell subsystem); a host where nothing matched has Processes 0.

    Each host needs pwsh 7.4+ behind sshd's `Subsystem powershell` line and the MadvPS module on
    its module path (README: "Putting pwsh and MadvPS on the hosts"). Advising another user's
    process needs root or CAP_SYS_NICE there.

    The rows are objects with numbers: sort and sum them, and show sizes with Format-MemorySize.
.PARAMETER HostName
    The hosts: names or addresses, each optionally with :port (web1:2222, [::1]:2222). Repeated
    hosts are reached once.
.PARAMETER ProcessName
    The process names to advise on every host, as Get-Process -Name takes them (wildcards too).
.PARAMETER Advice
    PageOut (the default: reclaim now) or Cold (reclaim first under pressure).
.PARAMETER MappingType
    Which mappings: File (the default: clean file pages are dropped and read back when needed,
    nothing is lost), Anonymous (needs swap on the host) or All.
.PARAMETER UserName
    The SSH user; without it, ssh's default (your user name, or User in ~/.ssh/config).
.PARAMETER KeyFilePath
    The SSH private key; without it, ssh's defaults.
.PARAMETER Port
    The SSH port of hosts given without :port (22).
.PARAMETER Options
    More ssh options, as New-PSSession -Options takes them (@{ StrictHostKeyChecking = 'yes' }).
.PARAMETER ThrottleLimit
    How many hosts run the advice at once (16).
.PARAMETER ConnectingTimeout
    Milliseconds to wait for a host's session to open (30000).
.EXAMPLE
    ./Invoke-FleetReclaim.ps1 -HostName (Get-Content ./web-hosts.txt) -UserName root -KeyFilePath ~/.ssh/fleet_ed25519 -ProcessName nginx |
        Format-Table Host, Reached, Processes, (Format-MemorySize -Property Reclaimed), Duration, Error

    Pages out the file-backed memory of nginx on every web host, 16 at a time, and shows a row
    per host, those that failed or had no nginx included.
.EXAMPLE
    ./Invoke-FleetReclaim.ps1 -HostName web1, web2:2222 -ProcessName 'java*' -Advice Cold -WhatIf

    Opens the sessions and counts the matching processes on each host, but advises nothing.
.OUTPUTS
    One object per host: Host, Port, Reached, Processes, Reclaimed, Advised, Failed, Duration, Error.
#>
[CmdletBinding(SupportsShouldProcess)]
[OutputType([pscustomobject])]
param(
    [Parameter(Mandatory)] [string[]] $HostName,
    [Parameter(Mandatory)] [string[]] $ProcessName,
    [ValidateSet('PageOut', 'Cold')] [string] $Advice = 'PageOut',
    [ValidateSet('File', 'Anonymous', 'All')] [string] $MappingType = 'File',
    [string] $UserName,
    [string] $KeyFilePath,
    [ValidateRange(1, 65535)] [int] $Port = 22,
    [hashtable] $Options,
    [ValidateRange(1, 1024)] [int] $ThrottleLimit = 16,
    [ValidateRange(1, [int]::MaxValue)] [int] $ConnectingTimeout = 30000
)
Set-StrictMode -Version 3.0

# "host", "host:port", "[v6]:port" -> Name and Port; each host once, in the order given.
$targets = [System.Collections.Generic.List[object]]::new()
foreach ($entry in $HostName) {
    $name, $hostPort = $entry, $Port
    if ($entry -match '^\[(?<name>[^\]]+)\](:(?<port>\d+))?$' -or $entry -match '^(?<name>[^:\[\]]+):(?<port>\d+)$') {
        $name = $Matches.name
        if ($Matches['port']) { $hostPort = [int]$Matches.port }
    }
    if (-not ($targets | Where-Object { $_.Name -eq $name -and $_.Port -eq $hostPort })) {
        $targets.Add([pscustomobject]@{ Name = $name; Port = $hostPort; Session = $null; Error = $null; Result = $null })
    }
}

# Why a host gave no session: what a TCP connection to its SSH port finds in a few seconds.
function Get-Unreachable([string] $Name, [int] $HostPort, [string] $Message) {
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $found = try {
            if ($client.ConnectAsync($Name, $HostPort).Wait(5000)) { 'the port answers, but the session did not open (SSH authentication, host key, or the host''s powershell subsystem)' }
            else { "no answer on port $HostPort within 5 s" }
        }
        catch {
            $inner = $_.Exception.GetBaseException()
            if ($inner -is [System.Net.Sockets.SocketException]) {
                switch ($inner.SocketErrorCode) {
                    'ConnectionRefused' { "nothing listens on port $HostPort (connection refused)" }
                    'HostNotFound' { 'the name does not resolve' }
                    default { "port ${HostPort}: $($inner.Message)" }
                }
            }
            else { $inner.Message }
        }
    }
    finally { $client.Dispose() }
    "${Name}:${HostPort}: not reached: $found. $Message"
}

$connection = @{ ConnectingTimeout = $ConnectingTimeout; ErrorAction = 'SilentlyContinue' }
if ($UserName) { $connection.UserName = $UserName }
if ($KeyFilePath) { $connection.KeyFilePath = $KeyFilePath }
if ($Options) { $connection.Options = $Options }

$sessions = [System.Collections.Generic.List[System.Management.Automation.Runspaces.PSSession]]::new()
try {
    # One New-PSSession per port, every host of that port at once; an error carries the runspace
    # that failed, whose ConnectionInfo names the host (the message itself does not).
    foreach ($group in $targets | Group-Object Port) {
        $opened = @(New-PSSession -HostName $group.Group.Name -Port ([int]$group.Name) @connection -ErrorVariable openErrors)
        foreach ($session in $opened) {
            $t = $group.Group | Where-Object { $_.Name -eq $session.ComputerName -and -not $_.Session } | Select-Object -First 1
            if ($t) { $t.Session = $session; $sessions.Add($session) } else { Remove-PSSession $session -WhatIf:$false }
        }
        foreach ($e in $openErrors) {
            $failed = if ($e.TargetObject -is [System.Management.Automation.Runspaces.Runspace]) { $e.TargetObject.ConnectionInfo.ComputerName }
            $t = $group.Group | Where-Object { $_.Name -eq $failed -and -not $_.Session -and -not $_.Error } | Select-Object -First 1
            if ($t) { $t.Error = Get-Unreachable $t.Name $t.Port $e.Exception.Message }
        }
    }

    if ($sessions.Count -gt 0) {
        $work = {
            param([string[]] $Names, [string] $Advice, [string] $MappingType, [bool] $Preview)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $row = [ordered]@{ Processes = 0; Reclaimed = [long]0; Advised = [long]0; Failed = 0; Error = $null; Duration = $null }
            try {
                Import-Module MadvPS -ErrorAction Stop
                $matched = @(Get-Process -Name $Names -ErrorAction SilentlyContinue)
                if ($Preview) {
                    $row.Processes = $matched.Count
                }
                elseif ($matched.Count -gt 0) {
                    $results = @(Set-ProcessMadvise -Id $matched.Id -Advice $Advice -MappingType $MappingType -ErrorAction SilentlyContinue -ErrorVariable adviceErrors -Confirm:$false)
                    $row.Processes = $results.Count
                    $row.Reclaimed = [long](($results | Measure-Object RssReclaimed -Sum).Sum)
                    $row.Advised = [long](($results | Measure-Object BytesAdvised -Sum).Sum)
                    $row.Failed = @($adviceErrors).Count
                    if ($adviceErrors) { $row.Error = (@($adviceErrors | Select-Object -First 3 | ForEach-Object { "$_" }) -join ' ') }
                }
            }
            catch { $row.Error = "$_" }
            $row.Duration = $clock.Elapsed
            [pscustomobject]$row
        }
        $preview = [bool]$WhatIfPreference -or -not $PSCmdlet.ShouldProcess("$($sessions.Count) host(s)", "$Advice on the $MappingType mappings of $($ProcessName -join ', ')")
        $rows = @(Invoke-Command -Session $sessions -ThrottleLimit $ThrottleLimit -ScriptBlock $work -ArgumentList $ProcessName, $Advice, $MappingType, $preview -ErrorAction SilentlyContinue -ErrorVariable runErrors)
        foreach ($r in $rows) {
            $t = $targets | Where-Object { $_.Session -and $_.Session.InstanceId -eq $r.RunspaceId } | Select-Object -First 1
            if ($t) { $t.Result = $r }
        }
        foreach ($e in $runErrors) {
            $origin = if ($e.PSObject.Properties['OriginInfo'] -and $e.OriginInfo) { $e.OriginInfo.PSComputerName } elseif ($e.TargetObject -is [System.Management.Automation.Runspaces.PSSession]) { $e.TargetObject.ComputerName }
            $t = $targets | Where-Object { $_.Session -and $_.Session.ComputerName -eq $origin -and -not $_.Result -and -not $_.Error } | Select-Object -First 1
            if ($t) { $t.Error = "${origin}: $($e.Exception.Message)" }
        }
    }
}
finally {
    if ($sessions.Count -gt 0) { Remove-PSSession -Session $sessions -WhatIf:$false -ErrorAction SilentlyContinue }
}

foreach ($t in $targets) {
    $r = $t.Result
    $message = if ($t.Error) { $t.Error } elseif ($r -and $r.Error) { "$($t.Name): $($r.Error)" } elseif (-not $r) { "$($t.Name): the session opened but returned no result." }
    [pscustomobject]@{
        Host      = $t.Name
        Port      = $t.Port
        Reached   = [bool]$t.Session
        Processes = if ($r) { [int]$r.Processes } else { 0 }
        Reclaimed = if ($r) { [long]$r.Reclaimed } else { [long]0 }
        Advised   = if ($r) { [long]$r.Advised } else { [long]0 }
        Failed    = if ($r) { [int]$r.Failed } else { 0 }
        Duration  = if ($r) { [timespan]$r.Duration } else { $null }
        Error     = $message
    }
}
