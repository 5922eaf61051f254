// Prints every docker-compose command shown in README.md's ```bash blocks, one per line, as
//   VAR=value VAR2=value<TAB>-f a.yml -f b.yml
// (leading environment assignments, then the compose files), deduplicated, so validate.sh can run
// `docker-compose ... config -q` on exactly what the README tells people to run.
import { readFileSync } from 'node:fs';

const readme = readFileSync(process.argv[2], 'utf8');
const blocks = [...readme.matchAll(/```(?:bash|sh)\n([\s\S]*?)```/g)].map((m) => m[1]);
const seen = new Set();
for (const block of blocks) {
    const joined = block.replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
        const command = line.replace(/#.*$/, '').trim();
        if (!/(^|\s)docker-compose\s/.test(command)) {
            continue;
        }
        const words = command.split(/\s+/);
        const env = [];
        let i = 0;
        while (i < words.length && /^[A-Z_][A-Z0-9_]*=\S*$/.test(words[i])) {
            env.push(words[i++]);
        }
        if (words[i] !== 'docker-compose') {
            continue; // e.g. `cd k6-tests && docker-compose ...` is not a form the README uses
        }
        const files = [];
        for (let j = i + 1; j < words.length; j++) {
            if (words[j] === '-f' && j + 1 < words.length) {
                files.push('-f', words[++j]);
            }
        }
        if (files.length === 0) {
            continue;
        }
        const key = `${env.join(' ')}\t${files.join(' ')}`;
        if (!seen.has(key)) {
            seen.add(key);
            console.log(key);
        }
    }
}
