// An attacker's (or a capture's) view of a loopback cluster: a UDP socket at an address the
// cluster also sends to (an extra `ucast` line), recording every packet, able to send back.
import { createSocket, type Socket } from 'node:dgram';

export interface Recorder {
  sock: Socket;
  packets: Buffer[];
}

export async function recorder(address: string, port: number): Promise<Recorder> {
  const sock = createSocket('udp4');
  const packets: Buffer[] = [];
  sock.on('message', (m) => packets.push(Buffer.from(m)));
  await new Promise<void>((r) => sock.bind(port, address, () => r()));
  return { sock, packets };
}

export async function sendTo(sock: Socket, packet: Buffer, port: number, address = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => sock.send(packet, port, address, (err) => (err ? reject(err) : resolve())));
}
