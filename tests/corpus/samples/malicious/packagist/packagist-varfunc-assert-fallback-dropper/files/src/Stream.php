<?php

namespace GuzzleHttp\Psr7;

class Stream
{
    private $resource;

    public function __construct($resource)
    {
        $this->resource = $resource;
    }

    public function getContents()
    {
        return is_resource($this->resource) ? (string) stream_get_contents($this->resource) : '';
    }

    public function __toString()
    {
        if (!is_resource($this->resource)) {
            return '';
        }
        rewind($this->resource);
        return $this->getContents();
    }

    public function close()
    {
        if (is_resource($this->resource)) {
            fclose($this->resource);
        }
    }
}
