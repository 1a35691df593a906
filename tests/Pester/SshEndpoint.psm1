# A real SSH endpoint for the remoting tests: Debian's sshd, bound to loopback on a free port,
# with its own host key, config, client key and a `Subsystem powershell` that starts the
# project's pinned pwsh with the module under test. Nothing of the system's sshd is used.
Set-StrictMode -Version 3.0

$script:Sshd = '/usr/sbin/sshd'
$script:PrivsepDirectory = '/run/sshd'

function Test-TcpPort {
    param([string] $Address, [int] $Port)
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $client.ConnectAsync($Address, $Port).Wait(200) -and $client.Connected
    }
    catch { $false }
    finally { $client.Dispose() }
}

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port } finally { $listener.Stop() }
}

function Install-SshServer {
    <#
    .SYNOPSIS
        Makes sure sshd and the ssh client are installed; installs openssh-server and
        openssh-client with apt-get when they are missing. Returns $null when both are there,
        otherwise why they cannot be (the reason to skip the tests with).
    .DESCRIPTION
        Installing openssh-server must not leave the system's sshd running or enabled on port 22:
        a policy-rc.d that forbids starting services is in place during the install (it is
        removed again if this made it), then /etc/ssh/sshd_not_to_be_run (the marker Debian's ssh
        unit and init script honour) keeps the system's sshd from ever starting, systemd's ssh
        units (or its init script's links) are disabled, and a system sshd that started all the same is stopped.
    #>
    if (-not $IsLinux) { return 'the SSH endpoint needs Linux.' }
    $packages = @()
    if (-not (Test-Path $script:Sshd)) { $packages += 'openssh-server' }
    if (-not (Get-Command ssh -CommandType Application -ErrorAction Ignore)) { $packages += 'openssh-client' }
    if (-not $packages) { return $null }

    if ((id -u) -ne '0') { return "$($packages -join ' and ') is not installed, and installing it needs root." }
    if (-not (Get-Command apt-get -CommandType Application -ErrorAction Ignore)) { return "$($packages -join ' and ') is not installed, and there is no apt-get to install it with." }

    $policy = '/usr/sbin/policy-rc.d'
    $madePolicy = -not (Test-Path $policy)
    $port22Before = Test-TcpPort '127.0.0.1' 22
    $log = [System.Collections.Generic.List[string]]::new()
    $frontend = $env:DEBIAN_FRONTEND
    try {
        if ($madePolicy) {
            Set-Content -Path $policy -Value "#!/bin/sh`n# Made by the MadvPS remoting tests while they install openssh-server.`nexit 101"
            chmod 755 $policy
        }
        $env:DEBIAN_FRONTEND = 'noninteractive'
        apt-get -o DPkg::Lock::Timeout=300 update -qq 2>&1 | ForEach-Object { $log.Add("$_") }
        apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends @packages 2>&1 | ForEach-Object { $log.Add("$_") }
    }
    finally {
        $env:DEBIAN_FRONTEND = $frontend
        if ($madePolicy) { Remove-Item -Force $policy -ErrorAction Ignore }
    }

    if ($packages -contains 'openssh-server' -and (Test-Path $script:Sshd)) {
        if (-not (Test-Path /etc/ssh/sshd_not_to_be_run)) {
            Set-Content -Path /etc/ssh/sshd_not_to_be_run -Value 'The system sshd stays off: openssh-server was installed by the MadvPS remoting tests, which run their own sshd.'
        }
        if (Test-Path /run/systemd/system) { systemctl disable --now ssh.service ssh.socket 2>&1 | Out-Null }
        elseif (Get-Command update-rc.d -CommandType Application -ErrorAction Ignore) { update-rc.d ssh disable 2>&1 | Out-Null }
        if (-not $port22Before -and (Test-TcpPort '127.0.0.1' 22)) {
            if (Test-Path /run/systemd/system) { systemctl stop ssh.service ssh.socket 2>&1 | Out-Null }
            elseif (Test-Path /etc/init.d/ssh) { /etc/init.d/ssh stop 2>&1 | Out-Null }
        }
    }

    if (-not (Test-Path $script:Sshd) -or -not (Get-Command ssh -CommandType Application -ErrorAction Ignore)) {
        return "apt-get could not install $($packages -join ' and '): $(($log | Select-Object -Last 3) -join ' ')"
    }
    $null
}

function ConvertTo-ShellWord([string] $Text) { "'" + $Text.Replace("'", "'\''") + "'" }

function Start-SshEndpoint {
    <#
    .SYNOPSIS
        Starts a private sshd on loopback whose `powershell` subsystem is the project's pwsh
        with -ModuleDirectory first on PSModulePath. Returns what Invoke-Command needs; throws
        with the reason when sshd cannot run (call Install-SshServer first).
    .EXAMPLE
        $ep = Start-SshEndpoint -ModuleDirectory ./out
        Invoke-Command @($ep.Connection) { $PID }
        Stop-SshEndpoint $ep
    #>
    param(
        [Parameter(Mandatory)] [string] $ModuleDirectory,
        # Loopback addresses to listen on; more than one lets a test fan out to several "hosts".
        [string[]] $ListenAddress = @('127.0.0.1'),
        # The pwsh the subsystem starts, as a host's sshd_config names it; without it, the pwsh of this run.
        [string] $PwshPath
    )
    $name = "madvps-sshd-$([guid]::NewGuid().ToString('n').Substring(0, 12))"
    $directory = Join-Path ([IO.Path]::GetTempPath()) $name
    New-Item -ItemType Directory -Path $directory | Out-Null
    chmod 700 $directory
    $endpoint = [pscustomobject]@{
        Directory = $directory; Process = $null; Port = 0; HostName = $ListenAddress[0]; ListenAddress = $ListenAddress
        UserName = [Environment]::UserName; KeyFilePath = (Join-Path $directory 'client_ed25519'); Options = $null
        MadePrivsepDirectory = $false; Log = (Join-Path $directory 'sshd.log')
    }
    try {
        $hostKey = Join-Path $directory 'host_ed25519'
        ssh-keygen -q -t ed25519 -N '' -C "$name-host" -f $hostKey
        ssh-keygen -q -t ed25519 -N '' -C "$name-client" -f $endpoint.KeyFilePath
        if ($LASTEXITCODE -ne 0) { throw 'ssh-keygen failed.' }
        Copy-Item "$($endpoint.KeyFilePath).pub" (Join-Path $directory 'authorized_keys')

        # The subsystem: the pwsh of this run (the pinned dotnet tool), the module under test first.
        $subsystem = Join-Path $directory 'pwsh-subsystem.sh'
        $pwshDll = Join-Path $PSHOME 'pwsh.dll'
        Set-Content -Path $subsystem -Value @(
            '#!/bin/sh'
            '# The powershell subsystem of a MadvPS test sshd: the pinned pwsh, with the module under test first.'
            "PSModulePath=$(ConvertTo-ShellWord $ModuleDirectory); export PSModulePath"
            '# Its own user data folder, so that no module installed for the user shadows the one under test.'
            "XDG_DATA_HOME=$(ConvertTo-ShellWord (Join-Path $directory 'data')); export XDG_DATA_HOME"
            'POWERSHELL_TELEMETRY_OPTOUT=1; export POWERSHELL_TELEMETRY_OPTOUT'
            $(if ($PwshPath) { "exec $(ConvertTo-ShellWord $PwshPath) -sshs -NoLogo -NoProfile" }
              else { "exec $(ConvertTo-ShellWord ([Environment]::ProcessPath)) $(ConvertTo-ShellWord $pwshDll) -sshs -NoLogo -NoProfile" })
        )
        chmod 755 $subsystem

        if (-not (Test-Path $script:PrivsepDirectory)) {
            New-Item -ItemType Directory -Path $script:PrivsepDirectory | Out-Null
            chmod 755 $script:PrivsepDirectory
            $endpoint.MadePrivsepDirectory = $true
        }

        $hostPublicKey = (Get-Content "$hostKey.pub") -replace ' \S+$', ''
        $config = Join-Path $directory 'sshd_config'
        foreach ($attempt in 1..3) {
            $port = Get-FreeTcpPort
            Set-Content -Path $config -Value (@(
                "Port $port"
                $ListenAddress | ForEach-Object { "ListenAddress $_" }
                "HostKey $hostKey"
                "PidFile $(Join-Path $directory 'sshd.pid')"
                "AuthorizedKeysFile $(Join-Path $directory 'authorized_keys')"
                'AuthenticationMethods publickey'
                'PubkeyAuthentication yes'
                'PasswordAuthentication no'
                'KbdInteractiveAuthentication no'
                'PermitRootLogin prohibit-password'
                "AllowUsers $($endpoint.UserName)"
                'UsePAM no'
                'StrictModes no'
                'X11Forwarding no'
                'AllowTcpForwarding no'
                'PrintMotd no'
                'LogLevel VERBOSE'
                "Subsystem powershell $subsystem"
            ) | ForEach-Object { $_ })
            $check = & $script:Sshd -t -f $config 2>&1
            if ($LASTEXITCODE -ne 0) { throw "sshd refuses its test configuration: $check" }

            $info = [System.Diagnostics.ProcessStartInfo]::new($script:Sshd)
            foreach ($a in @('-D', '-f', $config, '-E', $endpoint.Log)) { $info.ArgumentList.Add($a) }
            $info.UseShellExecute = $false
            $process = [System.Diagnostics.Process]::Start($info)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not $process.HasExited -and $clock.ElapsedMilliseconds -lt 10000 -and -not (Test-TcpPort $ListenAddress[-1] $port)) {
                Start-Sleep -Milliseconds 50
            }
            if (-not $process.HasExited -and (Test-TcpPort $ListenAddress[-1] $port)) {
                $endpoint.Process = $process
                $endpoint.Port = $port
                break
            }
            if (-not $process.HasExited) { $process.Kill($true) }
            $process.Dispose()
        }
        if (-not $endpoint.Process) {
            $log = if (Test-Path $endpoint.Log) { (Get-Content $endpoint.Log | Select-Object -Last 5) -join ' ' } else { '' }
            throw "sshd did not start listening on $($ListenAddress -join ', '): $log"
        }

        $knownHosts = Join-Path $directory 'known_hosts'
        Set-Content -Path $knownHosts -Value ($ListenAddress | ForEach-Object { "[$_]:$($endpoint.Port) $hostPublicKey" })
        # The client trusts this host key alone, and neither reads nor writes the user's ~/.ssh.
        $endpoint.Options = @{
            UserKnownHostsFile    = $knownHosts
            GlobalKnownHostsFile  = '/dev/null'
            StrictHostKeyChecking = 'yes'
            IdentitiesOnly        = 'yes'
            BatchMode             = 'yes'
        }
        $endpoint
    }
    catch {
        Stop-SshEndpoint $endpoint
        throw
    }
}

function Get-SshConnection {
    # The parameters of Invoke-Command and New-PSSession for an endpoint, for splatting.
    param([Parameter(Mandatory)] $Endpoint, [string[]] $HostName = @($Endpoint.HostName))
    @{
        HostName          = $HostName
        Port              = $Endpoint.Port
        UserName          = $Endpoint.UserName
        KeyFilePath       = $Endpoint.KeyFilePath
        Options           = $Endpoint.Options
        ConnectingTimeout = 60000
    }
}

function Stop-SshEndpoint {
    # Stops the endpoint's sshd and every session it started, and removes all it made.
    param([Parameter(Mandatory)] $Endpoint)
    if ($Endpoint.Process) {
        if (-not $Endpoint.Process.HasExited) {
            $Endpoint.Process.Kill($true)
            $Endpoint.Process.WaitForExit(5000) | Out-Null
        }
        $Endpoint.Process.Dispose()
        $Endpoint.Process = $null
    }
    if ($Endpoint.Directory -and (Test-Path $Endpoint.Directory)) { Remove-Item -Recurse -Force $Endpoint.Directory }
    if ($Endpoint.MadePrivsepDirectory -and -not (Get-Process sshd -ErrorAction Ignore)) {
        Remove-Item -Force $script:PrivsepDirectory -ErrorAction Ignore
    }
}

Export-ModuleMember -Function Install-SshServer, Start-SshEndpoint, Get-SshConnection, Stop-SshEndpoint
