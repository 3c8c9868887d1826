// The address guard's program, in Perl: a tiny process that outlives hbd for one purpose.
// hbd tells it, on its stdin, exactly which copies of virtual IPs it holds (address, prefix,
// device), and gives it its last words: a goodbye signed in advance (`hts_why=crash`) and the
// routes its IP media send on. If hbd dies without saying goodbye (kill -9, a crash, the OOM
// killer), stdin reaches EOF and the guard
//   1. removes those copies at once, and checks that they are gone, so a dead daemon never
//      leaves a virtual IP configured next to the survivor's (Heartbeat's split brain after
//      kill -9), then
//   2. sends the last words, so the peers take the group over now instead of after deadtime.
// The order matters: a peer may add the address the moment it reads the goodbye. If a copy
// cannot be removed, the guard says so loudly and sends nothing: the peers then wait for
// deadtime, and the operator has that long to act, rather than two hosts answering at once.
// Services are left alone, as after a silence: without their address, clients no longer
// reach them. If the guard dies with hbd (the host lost power), peers wait for deadtime.
//
// Why Perl and not Node (issue 19): the guard does a few system calls, once; a Node process
// for it cost 44.5 MiB RSS (~10 MiB PSS) for the whole life of hbd, Perl about 5 MiB.
// Debian's perl-base is Essential (on every system, so the package needs no new dependency),
// and the script uses only modules perl-base ships (strict, warnings, Socket), which
// test/daemon/guard-perl.test.ts checks. It runs as `perl -e SCRIPT`: nothing to install
// beside dist/, and $0 replaces the command line at once.
//
// Its input, one line each (guard.ts writes them; a last line without its '\n' is not a line:
// hbd died in the middle of writing it):
//   held IP/PREFIX/DEV ...        every copy hbd holds now (replaces the previous list)
//   lastwords HEX,HEX... ROUTE ...  the packets in hex, in the order they go out (wire/messages.ts
//                                 says why there are several); ROUTE = LOCAL,to=ADDR:PORT,...[,bcast][,mcast=TTL:LOOP]
//   exit                          a clean exit: leave everything as it is
// Everything is checked again here (the regexes below): no address, device or route that is
// not well formed reaches `ip` (run with an argument list, never a shell) or a socket.

/** The Perl program (String.raw: its backslashes are Perl's). */
export const GUARD_PERL = String.raw`
use strict;
use warnings;
use Socket qw(AF_INET AF_INET6 PF_INET SOCK_DGRAM IPPROTO_IP IPPROTO_UDP SOL_SOCKET SO_BROADCAST
  IP_MULTICAST_IF IP_MULTICAST_TTL IP_MULTICAST_LOOP inet_aton inet_pton pack_sockaddr_in);

# Among Heartbeat's own processes ('heartbeat: FIFO reader', ...), under its command name:
# $0 sets the command line and comm to its first 15 bytes; comm then becomes "heartbeat", as a
# real Heartbeat process's is (see src/lib/proc-title.ts).
$0 = 'heartbeat: address guard';
if (open(my $comm, '>', '/proc/self/comm')) { print $comm 'heartbeat'; close $comm; }

# stderr is hbd's (the journal under systemd): "<N>" gives a line its priority there.
my $journal = 0;
if (($ENV{JOURNAL_STREAM} // '') =~ /^(\d+):(\d+)$/) {
  my @st = stat(STDERR);
  $journal = 1 if @st && "$st[0]" eq $1 && "$st[1]" eq $2;
}
# stderr is unbuffered: each line is one write.
sub say_line { my ($severity, $text) = @_; print STDERR (($journal ? "<$severity>" : '') . $text . "\n"); }

# Signals are not for us: only the pipe closing ends the guard. hbd's own SIGTERM (a clean
# stop) must not make us remove addresses hbd is still stopping in order; and when hbd dies
# under systemd, the unit's stop sends SIGTERM to every process left in its control group,
# the guard included, at the very moment the guard has its work to do. hbd's EOF tells us
# which case it is; systemd sends SIGKILL only after TimeoutStopSec. Handlers, not 'IGNORE':
# an ignored signal would stay ignored in the ip commands we run.
$SIG{$_} = sub { } for qw(TERM INT HUP PIPE USR1 USR2);

my $DEVICE = qr/^[A-Za-z0-9_.:\@-]{1,15}$/;
my $IPV4 = qr/^\d{1,3}(?:\.\d{1,3}){3}$/;
my %held;          # "ip/prefix dev" => [ip, prefix, dev]: exactly the copies to remove
my @packets;       # the last words, as bytes, in order
my @routes;        # [{ local, to => [[addr, port], ...], bcast, mcast => [ttl, loop] }]
my $clean = 0;

sub family { my ($ip) = @_; return defined inet_pton(AF_INET, $ip) ? 4 : defined inet_pton(AF_INET6, $ip) ? 6 : 0; }

sub read_held {
  my ($word) = @_;
  my ($ip, $prefix, $dev) = split m{/}, $word, 3;
  return undef unless defined $dev && $dev =~ $DEVICE && $prefix =~ /^\d{1,3}$/ && $prefix <= 128;
  my $family = family($ip);
  return undef if !$family || ($family == 4 && $prefix > 32);
  return [$ip, $prefix + 0, $dev];
}

sub read_route {
  my ($word) = @_;
  my ($local, @parts) = split /,/, $word;
  return undef unless defined $local && $local =~ $IPV4 && inet_aton($local);
  my $r = { local => $local, to => [] };
  for (@parts) {
    if (/^to=(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/ && inet_aton($1) && $2 >= 1 && $2 <= 65535) { push @{$r->{to}}, [$1, $2 + 0]; }
    elsif ($_ eq 'bcast') { $r->{bcast} = 1; }
    elsif (/^mcast=(\d{1,3}):([01])$/ && $1 <= 255) { $r->{mcast} = [$1 + 0, $2 + 0]; }
    else { return undef; }
  }
  return $r;
}

sub read_line {
  my ($line) = @_;
  my ($what, @words) = split ' ', $line;
  return unless defined $what;
  if ($what eq 'held') {
    %held = ();
    for (@words) {
      my $addr = read_held($_);
      if ($addr) { $held{"$addr->[0]/$addr->[1] $addr->[2]"} = $addr; } else { say_line(3, "hbd guard: ignored a malformed address from hbd: $_"); }
    }
  } elsif ($what eq 'lastwords' && @words && $words[0] =~ /^(?:[0-9a-f]{2})+(?:,(?:[0-9a-f]{2})+)*$/) {
    my $hex = shift @words;
    my @ok;
    for (@words) {
      my $r = read_route($_);
      if ($r) { push @ok, $r; } else { say_line(3, "hbd guard: ignored a malformed route from hbd: $_"); }
    }
    @packets = map { pack('H*', $_) } split /,/, $hex;
    @routes = @ok;
  } elsif ($what eq 'exit') {
    $clean = 1;
  }
}

# hbd waits for this before it starts any resource: from here on, only EOF ends the guard.
$| = 1;
print "ready\n";

while (defined(my $line = <STDIN>)) {
  last unless $line =~ s/\n\z//;
  read_line($line);
}
exit 0 if $clean;
say_last_words() if release();
exit 0;

# Runs ip with these arguments (never a shell), at most 5 s; returns its exit status and what
# it printed (stdout and stderr).
sub ip {
  my @args = @_;
  my $pid = open(my $out, '-|');
  return (-1, "cannot run ip: $!") unless defined $pid;
  if ($pid == 0) {
    open(STDERR, '>&', \*STDOUT);
    open(STDIN, '<', '/dev/null');
    # Not in void context: exec followed by a statement warns at compile time, on every start.
    exec { 'ip' } 'ip', @args or print "cannot run ip: $!\n";
    exit 127;
  }
  my $text = '';
  my $ok = eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 5;
    local $/;
    $text = <$out> // '';
    alarm 0;
    1;
  };
  if (!$ok) { kill 'KILL', $pid; close $out; return (-1, 'no answer within 5 s'); }
  close $out;
  return ($?, $text);
}

# Whether this copy is still configured, by "ip -o addr show" (addresses compared as bytes).
sub still_there {
  my ($listing, $addr) = @_;
  my $family = family($addr->[0]) == 4 ? AF_INET : AF_INET6;
  my $want = inet_pton($family, $addr->[0]);
  for (split /\n/, $listing) {
    next unless /^\d+:\s+(\S+)\s+inet6?\s+([^\s\/]+)/ && $1 eq $addr->[2];
    my $got = inet_pton($family, $2);
    return 1 if defined $got && $got eq $want;
  }
  return 0;
}

# Removes every held copy; true only when none is left (then, and only then, the peers may
# take over at once).
sub release {
  return 1 unless %held;
  for my $addr (map { $held{$_} } sort keys %held) {
    my ($ip, $prefix, $dev) = @$addr;
    my ($status, $text) = ip('addr', 'del', "$ip/$prefix", 'dev', $dev);
    if ($status == 0) { say_line(6, "hbd guard: hbd died; removed $ip from $dev (/$prefix)"); }
    else { my ($first) = split /\n/, $text; say_line(3, "hbd guard: ip addr del $ip/$prefix dev $dev: " . ($first // "exit status $status")); }
  }
  my ($status, $listing) = ip('-o', 'addr', 'show');
  if ($status != 0) {
    my ($first) = split /\n/, $listing;
    say_line(2, 'hbd guard: CRITICAL: cannot check that the addresses are gone (' . ($first // "exit status $status") . '); not telling the peers: they take over after deadtime');
    return 0;
  }
  my @left = grep { still_there($listing, $_) } map { $held{$_} } sort keys %held;
  return 1 unless @left;
  say_line(2, 'hbd guard: CRITICAL: ' . join(', ', map { "$_->[0]/$_->[1] on $_->[2]" } @left) . ' could not be removed; not telling the peers that hbd died, so they wait for deadtime instead of running the same address at once. Remove it by hand now.');
  return 0;
}

# Twice on every route, in order, as hbd sends its goodbye: one lost copy must not cost a deadtime.
sub say_last_words {
  return unless @packets && @routes;
  my $sent = 0;
  for my $r (@routes) {
    my $s;
    my $ok = socket($s, PF_INET, SOCK_DGRAM, IPPROTO_UDP)
      && bind($s, pack_sockaddr_in(0, inet_aton($r->{local})))
      && (!$r->{bcast} || setsockopt($s, SOL_SOCKET, SO_BROADCAST, 1))
      && (!$r->{mcast} || (setsockopt($s, IPPROTO_IP, IP_MULTICAST_IF, inet_aton($r->{local}))
        && setsockopt($s, IPPROTO_IP, IP_MULTICAST_TTL, $r->{mcast}[0])
        && setsockopt($s, IPPROTO_IP, IP_MULTICAST_LOOP, $r->{mcast}[1])));
    if (!$ok) { say_line(3, "hbd guard: could not send from $r->{local}: $!"); next; }
    for my $copy (1, 2) {
      for my $packet (@packets) {
        for my $d (@{$r->{to}}) { $sent++ if defined send($s, $packet, 0, pack_sockaddr_in($d->[1], inet_aton($d->[0]))); }
      }
    }
    close $s;
  }
  say_line(6, "hbd guard: told the peers that hbd died ($sent packets)") if $sent > 0;
}
`;
