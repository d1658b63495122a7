/** The parts of `sm-crypto` (an independent SM2/SM3 implementation) the audit tests use to check ours. */
declare module 'sm-crypto' {
  interface SignatureOptions {
    /** DER-encoded signature (as OpenSSL writes it). */
    der?: boolean;
    /** Prepend Z (GB/T 32918) to the message before SM3: the standard's signature. */
    hash?: boolean;
    publicKey?: string;
    userId?: string;
  }
  export const sm2: {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    getPublicKeyFromPrivateKey(privateKey: string): string;
    doSignature(message: string | number[], privateKey: string, options?: SignatureOptions): string;
    doVerifySignature(message: string | number[], signature: string, publicKey: string, options?: SignatureOptions): boolean;
  };
  export function sm3(message: string | number[]): string;
  const sm: { sm2: typeof sm2; sm3: typeof sm3 };
  export default sm;
}
