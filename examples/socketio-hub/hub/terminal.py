"""Runs allow-listed commands (argv lists from the server's configuration) with a timeout and an output cap."""
import asyncio
import os
import signal
import time


class TerminalError(Exception):
    """The command cannot run; `code` is machine-readable, str(self) the reason."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


class Terminal:
    def __init__(self, commands, timeout, output_limit, max_running):
        self.commands, self.timeout, self.output_limit, self.max_running = commands, timeout, output_limit, max_running
        self.running = 0

    async def run(self, name):
        """Runs the command called `name`; returns {command, exit_code, stdout, stderr, truncated, timed_out, duration_ms}."""
        argv = self.commands.get(name)
        if argv is None:
            raise TerminalError('unknown_command',
                                f"unknown command {name!r}; allowed: {', '.join(sorted(self.commands))}")
        if self.running >= self.max_running:
            raise TerminalError('busy', f'{self.running} commands are already running (TERMINAL_MAX_RUNNING)')
        self.running += 1
        try:
            return await self._run(name, argv)
        finally:
            self.running -= 1

    async def _run(self, name, argv):
        began = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise TerminalError('spawn_failed', f'command {name!r} could not start: {exc.strerror}') from None
        budget = [self.output_limit]
        kept = {'stdout': bytearray(), 'stderr': bytearray()}
        truncated = False

        def kill():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        async def read(stream, into):
            nonlocal truncated
            while True:
                chunk = await stream.read(65536)
                if not chunk:
                    return
                take = min(len(chunk), budget[0])
                into += chunk[:take]
                budget[0] -= take
                if take < len(chunk) and not truncated:
                    truncated = True
                    kill()

        timed_out = False
        reading = asyncio.gather(read(proc.stdout, kept['stdout']), read(proc.stderr, kept['stderr']))
        try:
            await asyncio.wait_for(asyncio.shield(reading), self.timeout)
        except asyncio.TimeoutError:
            timed_out = True
            kill()
            try:  # the pipes close once the group is dead; a process that left the group may hold them
                await asyncio.wait_for(reading, 2)
            except asyncio.TimeoutError:
                pass
        except asyncio.CancelledError:
            kill()
            reading.cancel()
            await proc.wait()
            raise
        stdout, stderr = bytes(kept['stdout']), bytes(kept['stderr'])
        await proc.wait()
        return {
            'command': name,
            'exit_code': proc.returncode,  # negative: killed by that signal (timeout or output cap)
            'stdout': stdout.decode('utf-8', 'replace'),
            'stderr': stderr.decode('utf-8', 'replace'),
            'truncated': truncated,
            'timed_out': timed_out,
            'duration_ms': round((time.monotonic() - began) * 1000),
        }
